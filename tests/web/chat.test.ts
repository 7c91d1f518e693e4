import { randomUUID } from "node:crypto";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { post, readSse, startWeb, UUID_RE, type WebHarness } from "./harness.js";

let t: WebHarness;

beforeAll(async () => {
  t = await startWeb();
});

afterAll(async () => {
  await t.close();
});

beforeEach(() => {
  t.fake.respond((body) => {
    const last = body.messages.at(-1).content as string;
    return { text: `You said: ${last}` };
  });
});

describe("POST /chat", () => {
  it("answers with the model's text and a new conversation id, and remembers the exchange", async () => {
    const res = await post(t.baseUrl, "/chat", { message: "Hello! How are you?", stream: false });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.response).toBe("You said: Hello! How are you?");
    expect(body.conversation_id).toMatch(UUID_RE);
    expect(res.headers.get("x-conversation-id")).toBe(body.conversation_id);

    const again = await post(t.baseUrl, "/chat", {
      message: "And now?",
      conversation_id: body.conversation_id,
    });
    expect((await again.json()).conversation_id).toBe(body.conversation_id);
    const sent = t.fake.lastBody.messages.map((m: { role: string; content: string }) => [m.role, m.content]);
    expect(sent.slice(1)).toEqual([
      ["user", "Hello! How are you?"],
      ["assistant", "You said: Hello! How are you?"],
      ["user", "And now?"],
    ]);

    const history = await fetch(`${t.baseUrl}/conversations/${body.conversation_id}`);
    expect(history.status).toBe(200);
    expect(await history.json()).toEqual({
      conversation_id: body.conversation_id,
      messages: [
        { role: "user", content: "Hello! How are you?" },
        { role: "assistant", content: "You said: Hello! How are you?" },
        { role: "user", content: "And now?" },
        { role: "assistant", content: "You said: And now?" },
      ],
    });
  });

  it("keeps a conversation id the client chose, in the web namespace", async () => {
    const id = randomUUID();
    const res = await post(t.baseUrl, "/chat", { message: "hi", conversation_id: id });
    expect((await res.json()).conversation_id).toBe(id);
    expect(await t.store.exists(`web:${id}`)).toBe(true);
    expect(await t.store.exists(id)).toBe(false);
  });

  it("treats an upper-case id as the same conversation", async () => {
    const id = randomUUID();
    await post(t.baseUrl, "/chat", { message: "one", conversation_id: id.toUpperCase() });
    await post(t.baseUrl, "/chat", { message: "two", conversation_id: id });
    const history = await (await fetch(`${t.baseUrl}/conversations/${id}`)).json();
    expect(history.messages).toHaveLength(4);
  });

  it("streams when the body says stream: true", async () => {
    const res = await post(t.baseUrl, "/chat", { message: "streamed", stream: true });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { text, events } = await readSse(res);
    expect(text).toBe("You said: streamed");
    expect(events.at(-1)?.event).toBe("done");
  });

  it("maps a model failure to a status and the user-facing message", async () => {
    t.fake.respond(() => ({ status: 401 }));
    const res = await post(t.baseUrl, "/chat", { message: "hi" });
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.code).toBe("auth");
    expect(body.error.message).toMatch(/API key/);
    // The provider's own message (with a key fragment) never reaches the client.
    expect(JSON.stringify(body)).not.toContain("sk-abc");
  });

  it("passes the provider's rate limit on as 429 with Retry-After", async () => {
    t.fake.respond(() => ({ status: 429, retryAfterS: 7 }));
    const res = await post(t.baseUrl, "/chat", { message: "hi" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect((await res.json()).error.code).toBe("rate_limited");
  });
});

describe("POST /chat/stream", () => {
  it("rebuilds the exact text of multi-line tokens with a standard SSE parser", async () => {
    const chunks = [
      "# Title\n\n",
      "line one\nline two\n",
      "\n",
      "data: not a field\n",
      ": not a comment\n",
      "  indented ",
      "event: done\n\n\n",
      "```js\nconst x = 1;\n```",
      "\n",
      "end",
    ];
    t.fake.respond(() => ({ chunks }));
    const res = await post(t.baseUrl, "/chat/stream", { message: "tell me" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toMatch(/no-cache/);
    const conversationId = res.headers.get("x-conversation-id");
    expect(conversationId).toMatch(UUID_RE);

    const { events, text, comments } = await readSse(res);
    expect(text).toBe(chunks.join(""));
    expect(comments[0]).toBe("connected");
    expect(events.filter((e) => e.event === "token").length).toBeGreaterThan(0);
    const last = events.at(-1)!;
    expect(last.event).toBe("done");
    expect(JSON.parse(last.data)).toEqual({ conversation_id: conversationId });
    expect(events.filter((e) => e.event === "done")).toHaveLength(1);

    const stored = await t.store.history(`web:${conversationId}`);
    expect(stored.at(-1)).toMatchObject({ role: "assistant", text: chunks.join("") });
    expect(stored.at(-1)?.incomplete).toBeUndefined();
  });

  it("sends headers and a first byte before the model's first token", async () => {
    t.fake.respond(() => ({ stallAfterChunks: 0, text: "never sent" }));
    const aborts = t.fake.clientAborts;
    const requests = t.fake.requests.length;
    const controller = new AbortController();
    const res = await post(t.baseUrl, "/chat/stream", { message: "wait" }, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(": connected\n\n");
    // The model is now waiting on a request that will never answer.
    await vi.waitFor(() => expect(t.fake.requests.length).toBe(requests + 1), { timeout: 5_000 });
    controller.abort();
    // Closing the client's connection reaches the model call.
    await vi.waitFor(() => expect(t.fake.clientAborts).toBe(aborts + 1), { timeout: 5_000 });
  });

  it("keeps a silent stream alive with comment lines", async () => {
    const quiet = await startWeb({ heartbeatMs: 20 });
    try {
      quiet.fake.respond(() => ({ stallAfterChunks: 0, text: "never sent" }));
      const controller = new AbortController();
      const res = await post(
        quiet.baseUrl,
        "/chat/stream",
        { message: "wait" },
        { signal: controller.signal },
      );
      const comments: string[] = [];
      const parser = createParser({ onEvent: () => undefined, onComment: (c) => comments.push(c) });
      const reader = res.body!.getReader();
      while (!comments.includes("ping")) {
        const { value } = await reader.read();
        parser.feed(new TextDecoder().decode(value));
      }
      expect(comments[0]).toBe("connected");
      controller.abort();
    } finally {
      await quiet.close();
    }
  });

  it("stops the model call when the client goes away mid-answer and keeps the partial answer as incomplete", async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => `w${i} `);
    t.fake.respond(() => ({ chunks, chunkDelayMs: 20 }));
    const aborts = t.fake.clientAborts;
    const controller = new AbortController();
    const res = await post(t.baseUrl, "/chat/stream", { message: "long one" }, { signal: controller.signal });
    const id = res.headers.get("x-conversation-id")!;
    let seen = "";
    await readSse(res, (e) => {
      if (e.event === "token") seen += e.data;
      if (seen.length > 10) controller.abort();
    }).catch((err) => expect(err.name).toBe("AbortError"));

    await vi.waitFor(() => expect(t.fake.clientAborts).toBe(aborts + 1), { timeout: 5_000 });
    await vi.waitFor(
      async () => {
        const stored = await t.store.history(`web:${id}`);
        expect(stored.at(-1)).toMatchObject({ role: "assistant", incomplete: true });
      },
      { timeout: 5_000 },
    );
    const stored = await t.store.history(`web:${id}`);
    const partial = stored.at(-1)!.text;
    expect(partial.startsWith(seen)).toBe(true);
    expect(partial.length).toBeLessThan(chunks.join("").length);

    const history = await (await fetch(`${t.baseUrl}/conversations/${id}`)).json();
    expect(history.messages.at(-1)).toEqual({ role: "assistant", content: partial, incomplete: true });
  });

  it("ends with an error event after the tokens sent so far when the model fails mid-stream", async () => {
    t.fake.respond(() => ({ chunks: ["Once ", "upon ", "a ", "time"], cutAfterChunks: 2 }));
    const res = await post(t.baseUrl, "/chat/stream", { message: "story" });
    const id = res.headers.get("x-conversation-id")!;
    const { events, text } = await readSse(res);
    expect(text).toBe("Once upon ");
    const last = events.at(-1)!;
    expect(last.event).toBe("error");
    const reason = JSON.parse(last.data);
    expect(reason.error.code).toMatch(/^(network|model_error)$/);
    expect(typeof reason.error.message).toBe("string");
    expect(events.some((e) => e.event === "done")).toBe(false);
    const stored = await t.store.history(`web:${id}`);
    expect(stored.at(-1)).toMatchObject({ role: "assistant", text: "Once upon ", incomplete: true });
  });

  it("sends an error event when the model fails before any token", async () => {
    t.fake.respond(() => ({ status: 401 }));
    const res = await post(t.baseUrl, "/chat/stream", { message: "hi" });
    expect(res.status).toBe(200);
    const { events, text } = await readSse(res);
    expect(text).toBe("");
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toBe("error");
    expect(JSON.parse(events[0]!.data).error.code).toBe("auth");
  });
});

describe("conversations", () => {
  it("GET answers 404 for an unknown conversation", async () => {
    const res = await fetch(`${t.baseUrl}/conversations/${randomUUID()}`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("not_found");
  });

  it("DELETE forgets the conversation (the web's /reset)", async () => {
    const res = await post(t.baseUrl, "/chat", { message: "remember me" });
    const { conversation_id: id } = await res.json();
    const del = await fetch(`${t.baseUrl}/conversations/${id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ status: "deleted" });
    expect((await fetch(`${t.baseUrl}/conversations/${id}`)).status).toBe(404);

    await post(t.baseUrl, "/chat", { message: "fresh start", conversation_id: id });
    const sent = t.fake.lastBody.messages.filter((m: { role: string }) => m.role !== "system");
    expect(sent).toEqual([{ role: "user", content: "fresh start" }]);
  });
});
