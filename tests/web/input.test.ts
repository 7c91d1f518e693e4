import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { post, readSse, startWeb, type WebHarness } from "./harness.js";

let t: WebHarness;

beforeAll(async () => {
  t = await startWeb({ web: { maxMessageChars: 50 } });
});

afterAll(async () => {
  await t.close();
});

interface BadCase {
  name: string;
  body: string;
  contentType?: string;
  status: number;
  code: string;
}

const id = randomUUID();
const badCases: BadCase[] = [
  {
    name: "invalid JSON",
    body: `{"message": "hi", "conversation_id": "${id}"`,
    status: 400,
    code: "invalid_json",
  },
  { name: "an empty body", body: "", status: 400, code: "invalid_request" },
  { name: "a JSON array", body: `["hi"]`, status: 400, code: "invalid_request" },
  { name: "a JSON string", body: `"hi"`, status: 400, code: "invalid_request" },
  { name: "a missing message", body: `{"conversation_id": "${id}"}`, status: 400, code: "invalid_request" },
  {
    name: "an empty message",
    body: `{"message": "", "conversation_id": "${id}"}`,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a blank message",
    body: `{"message": "  \\n\\t ", "conversation_id": "${id}"}`,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a numeric message",
    body: `{"message": 42, "conversation_id": "${id}"}`,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a message over the limit",
    body: JSON.stringify({ message: "x".repeat(51), conversation_id: id }),
    status: 413,
    code: "message_too_long",
  },
  {
    name: "a non-boolean stream",
    body: `{"message": "hi", "stream": "yes"}`,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a malformed conversation_id",
    body: `{"message": "hi", "conversation_id": "abc"}`,
    status: 400,
    code: "invalid_conversation_id",
  },
  {
    name: "a numeric conversation_id",
    body: `{"message": "hi", "conversation_id": 7}`,
    status: 400,
    code: "invalid_conversation_id",
  },
  {
    name: "a Slack conversation id",
    body: `{"message": "hi", "conversation_id": "slack:T1:C1:1700000000.000100"}`,
    status: 400,
    code: "invalid_conversation_id",
  },
  {
    name: "a prefixed web id",
    body: `{"message": "hi", "conversation_id": "web:${id}"}`,
    status: 400,
    code: "invalid_conversation_id",
  },
  {
    name: "text/plain",
    body: JSON.stringify({ message: "hi", conversation_id: id }),
    contentType: "text/plain",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a form post",
    body: `message=hi&conversation_id=${id}`,
    contentType: "application/x-www-form-urlencoded",
    status: 415,
    code: "unsupported_media_type",
  },
];

describe.each(["/chat", "/chat/stream"])("bad input to POST %s", (path) => {
  it.each(badCases)("refuses $name with $status and stores nothing", async (c) => {
    const appends = vi.spyOn(t.store, "append");
    const modelCalls = t.fake.requests.length;
    const res = await post(t.baseUrl, path, c.body, {
      raw: true,
      headers: c.contentType ? { "content-type": c.contentType } : {},
    });
    expect(res.status).toBe(c.status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body.error.code).toBe(c.code);
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(t.fake.requests.length).toBe(modelCalls);
    expect(appends).not.toHaveBeenCalled();
    expect(await t.store.exists(`web:${id}`)).toBe(false);
    appends.mockRestore();
  });

  it("refuses a body without a content type", async () => {
    const res = await fetch(t.baseUrl + path, { method: "POST", body: new Blob([`{"message":"hi"}`]) });
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe("unsupported_media_type");
  });

  it("accepts a message exactly at the limit", async () => {
    const res = await post(t.baseUrl, path, { message: "y".repeat(50) });
    expect(res.status).toBe(200);
    if (path === "/chat") expect((await res.json()).response).toBe(`You said: ${"y".repeat(50)}`);
    else expect((await readSse(res)).text).toBe(`You said: ${"y".repeat(50)}`);
  });
});

describe("conversation namespace", () => {
  const slackId = "slack:T1:C1:1700000000.000100";
  const discordId = "discord:dm:42";

  beforeAll(async () => {
    for (const key of [slackId, discordId]) {
      await t.store.append(key, { role: "user", text: "secret", author: { id: "U1", name: "Ann" }, at: 1 });
    }
  });

  const attempts = [
    slackId,
    discordId,
    encodeURIComponent(slackId),
    "..%2F..%2Fslack:T1:C1:1700000000.000100",
    `web:${randomUUID()}`,
    "%00",
  ];

  it.each(attempts)("GET and DELETE /conversations/%s are refused", async (attempt) => {
    const get = await fetch(`${t.baseUrl}/conversations/${attempt}`);
    expect([400, 404]).toContain(get.status);
    expect(JSON.stringify(await get.json())).not.toContain("secret");
    const del = await fetch(`${t.baseUrl}/conversations/${attempt}`, { method: "DELETE" });
    expect([400, 404]).toContain(del.status);
    expect(await t.store.exists(slackId)).toBe(true);
    expect(await t.store.exists(discordId)).toBe(true);
  });

  it("a web conversation never sees another platform's messages", async () => {
    const res = await post(t.baseUrl, "/chat", { message: "what did Ann say?" });
    expect(res.status).toBe(200);
    expect(JSON.stringify(t.fake.lastBody.messages)).not.toContain("secret");
    expect(await t.store.history(slackId)).toHaveLength(1);
  });
});

describe("no model configured", () => {
  let n: WebHarness;

  beforeAll(async () => {
    n = await startWeb({ bot: { botOptions: { model: null } } });
  });

  afterAll(async () => {
    await n.close();
  });

  it("POST /chat answers 503 with what to set", async () => {
    const res = await post(n.baseUrl, "/chat", { message: "hi" });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error.code).toBe("not_configured");
    expect(body.error.message).toMatch(/OPENAI_API_KEY/);
  });

  it("the stream is refused before it opens, with 503 and what to set", async () => {
    const res = await post(n.baseUrl, "/chat/stream", { message: "hi" });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error.code).toBe("not_configured");
    expect(body.error.message).toMatch(/OPENAI_API_KEY/);
  });

  it("the page config says no model is configured", async () => {
    const config = await (await fetch(`${n.baseUrl}/ui/config`)).json();
    expect(config.model.configured).toBe(false);
    expect(config.model.message.length).toBeGreaterThan(10);
  });
});
