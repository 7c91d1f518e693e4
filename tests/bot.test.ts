import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AnthropicModel } from "../src/llm/anthropic.js";
import { OpenAIModel } from "../src/llm/openai.js";
import type { ChatModel } from "../src/llm/types.js";
import { silentLogger } from "../src/log.js";
import { createStore } from "../src/memory/store.js";
import type { StreamItem } from "../src/stream/index.js";
import { Bot } from "../src/turn/index.js";
import { FakeAnthropic } from "./fakes/anthropic.js";
import { FakeOpenAI } from "./fakes/openai.js";
import { BACKENDS, backendAvailable } from "./helpers/backends.js";
import { makeTestBot, type TestBot } from "./helpers/bot.js";

/** The answer's text (notices, if any, are not part of it). */
async function collect(it: AsyncIterable<StreamItem>): Promise<string> {
  let s = "";
  for await (const d of it) if (typeof d === "string") s += d;
  return s;
}

const alice = { id: "U1", name: "Alice" };
const bob = { id: "U2", name: "Bob" };

const stores: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-bot-")), "m.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
  postgres: async () => ((await backendAvailable("postgres")) ? BACKENDS.postgres : null),
};

describe.each(["openai", "anthropic"] as const)("a two-turn conversation with %s", (provider) => {
  describe.each(Object.keys(stores))("on %s", (storeName) => {
    let cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanup.reverse()) await c();
      cleanup = [];
    });

    it("sends the first exchange with the second question", async (ctx) => {
      const url = await stores[storeName]!();
      if (!url) return ctx.skip();
      const fake = provider === "openai" ? await FakeOpenAI.start() : await FakeAnthropic.start();
      cleanup.push(() => fake.close());
      const common = {
        model: "m",
        maxOutputTokens: 100,
        idleTimeoutMs: 5_000,
        maxRetries: 0,
        apiKey: "k-test",
      };
      const model: ChatModel =
        provider === "openai"
          ? new OpenAIModel({ ...common, baseUrl: fake.baseUrl })
          : new AnthropicModel({ ...common, baseUrl: fake.baseUrl });
      const store = createStore(url, { maxMessages: 50, ttlMs: 60_000, purgeIntervalMs: 0 });
      cleanup.push(() => store.close());
      const bot = new Bot({
        model,
        store,
        log: silentLogger(),
        systemPrompt: "Be brief.",
        contextTokens: 4_000,
      });
      const id = `web:${randomUUID()}`;

      expect(await collect(bot.reply({ conversationId: id, author: alice, text: "My name is Alice." }))).toBe(
        "You said: My name is Alice.",
      );
      expect(await collect(bot.reply({ conversationId: id, author: alice, text: "What is my name?" }))).toBe(
        "You said: What is my name?",
      );

      const body = fake.lastBody;
      const sent =
        provider === "openai" ? body.messages : [{ role: "system", content: body.system }, ...body.messages];
      expect(sent).toEqual([
        { role: "system", content: "Be brief." },
        { role: "user", content: "My name is Alice." },
        { role: "assistant", content: "You said: My name is Alice." },
        { role: "user", content: "What is my name?" },
      ]);
      const history = await bot.history(id);
      expect(history.map((m) => [m.role, m.text])).toEqual([
        ["user", "My name is Alice."],
        ["assistant", "You said: My name is Alice."],
        ["user", "What is my name?"],
        ["assistant", "You said: What is my name?"],
      ]);
      expect(history[0]!.author).toEqual(alice);
    });
  });
});

describe("turns", () => {
  let t: TestBot;
  afterEach(async () => t?.close());

  it("serializes two turns of one conversation in arrival order, each seeing the other", async () => {
    t = await makeTestBot();
    t.fake.respond((body) => ({ text: `answer to ${body.messages.at(-1).content}`, chunkDelayMs: 5 }));
    const id = "slack:T1:C1:1.0";
    const first = collect(t.bot.reply({ conversationId: id, author: alice, text: "one" }));
    const second = collect(t.bot.reply({ conversationId: id, author: bob, text: "two" }));
    expect(await Promise.all([first, second])).toEqual(["answer to one", "answer to [Bob] two"]);
    // The second request saw the whole first exchange, with speakers named.
    expect(t.fake.requests[1]!.body.messages.slice(1)).toEqual([
      { role: "user", content: "[Alice] one" },
      { role: "assistant", content: "answer to one" },
      { role: "user", content: "[Bob] two" },
    ]);
  });

  it("runs turns of different conversations at the same time", async () => {
    t = await makeTestBot();
    let finished = 0;
    // How many answers had finished when each model call arrived.
    const finishedAtCall: number[] = [];
    t.fake.respond(() => {
      finishedAtCall.push(finished);
      return { text: "ok", firstDelayMs: 500 };
    });
    const run = async (id: string) => {
      const text = await collect(t.bot.reply({ conversationId: id, author: alice, text: "hi" }));
      finished++;
      return text;
    };
    expect(await Promise.all([run("web:a"), run("web:b"), run("web:c")])).toEqual(["ok", "ok", "ok"]);
    // All three requests reached the model before any answer was finished.
    expect(finishedAtCall).toEqual([0, 0, 0]);
  });

  it("stores a partial answer marked incomplete and tells the model next time", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ text: "The answer is forty", cutAfterChunks: 4 });
    const id = "web:partial";
    await expect(
      collect(t.bot.reply({ conversationId: id, author: alice, text: "q" })),
    ).rejects.toMatchObject({
      code: "network",
    });
    const history = await t.bot.history(id);
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({ role: "assistant", incomplete: true });
    expect(history[1]!.text.length).toBeGreaterThan(0);
    await collect(t.bot.reply({ conversationId: id, author: alice, text: "again" }));
    expect(t.fake.lastBody.messages[2].content).toMatch(/\[this answer was interrupted\]$/);
  });

  it("a reset while a turn is running forgets that turn's answer too", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ text: "an answer from before the reset", chunkDelayMs: 20 });
    const id = "web:reset-race";
    const turn = collect(t.bot.reply({ conversationId: id, author: alice, text: "old question" }));
    while (t.fake.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await t.bot.reset(id);
    expect(await turn).toBe("an answer from before the reset");
    expect(await t.bot.history(id)).toEqual([]);
    await collect(t.bot.reply({ conversationId: id, author: alice, text: "new question" }));
    expect(t.fake.lastBody.messages.slice(1)).toEqual([{ role: "user", content: "new question" }]);
  });

  it("a failure before any text stores the question and an empty answer marked incomplete", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ status: 401 });
    const id = "web:auth";
    await expect(
      collect(t.bot.reply({ conversationId: id, author: alice, text: "q" })),
    ).rejects.toMatchObject({
      code: "auth",
      userMessage: expect.stringContaining("API key"),
    });
    const history = await t.bot.history(id);
    expect(history.map((m) => [m.role, m.text, m.incomplete])).toEqual([
      ["user", "q", undefined],
      ["assistant", "", true],
    ]);
    // The next turn tells the model the question went unanswered.
    t.fake.enqueue({ text: "ok" });
    for await (const _ of t.bot.reply({ conversationId: id, author: alice, text: "again" })) {
      // read it
    }
    expect(t.fake.lastBody.messages.slice(1)).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: "[this answer was interrupted]" },
      { role: "user", content: "again" },
    ]);
  });

  it("stopping early (abort) keeps what was shown, marked incomplete", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ text: "a long answer that keeps going", chunkDelayMs: 20 });
    const controller = new AbortController();
    const id = "web:abort";
    let seen = "";
    await expect(
      (async () => {
        for await (const d of t.bot.reply(
          { conversationId: id, author: alice, text: "q" },
          controller.signal,
        )) {
          if (typeof d === "string") seen += d;
          if (seen.length >= 5) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: "aborted" });
    const history = await t.bot.history(id);
    expect(history[1]).toMatchObject({ role: "assistant", incomplete: true });
    expect(history[1]!.text.startsWith(seen.slice(0, 5))).toBe(true);
  });

  it("a turn waiting behind another can be cancelled without blocking the next", async () => {
    t = await makeTestBot();
    t.fake.respond(() => ({ text: "slow", chunkDelayMs: 30 }));
    const id = "web:queue";
    const first = collect(t.bot.reply({ conversationId: id, author: alice, text: "1" }));
    const controller = new AbortController();
    const second = collect(t.bot.reply({ conversationId: id, author: alice, text: "2" }, controller.signal));
    const third = collect(t.bot.reply({ conversationId: id, author: alice, text: "3" }));
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: "aborted" });
    expect(await first).toBe("slow");
    expect(await third).toBe("slow");
    expect((await t.bot.history(id)).map((m) => m.text)).toEqual(["1", "slow", "3", "slow"]);
  });

  it("uses earlier thread messages as context when the conversation is new", async () => {
    t = await makeTestBot();
    const id = "slack:T:C:9.9";
    const context = [
      { role: "user" as const, text: "the build is red", author: bob, at: 1 },
      { role: "user" as const, text: "since this morning", author: bob, at: 2 },
    ];
    await collect(t.bot.reply({ conversationId: id, author: alice, text: "summarize this", context }));
    expect(t.fake.lastBody.messages.slice(1).map((m: { content: string }) => m.content)).toEqual([
      "[Bob] the build is red",
      "[Bob] since this morning",
      "[Alice] summarize this",
    ]);
  });

  it("answers the stored question again: the model sees the question, not the old answer, and memory holds one answer", async () => {
    t = await makeTestBot();
    const id = "discord:G:C:M1";
    t.fake.enqueue({ text: "first try" }, { text: "second try" });
    await collect(t.bot.reply({ conversationId: id, author: alice, text: "name a colour" }));
    expect(await collect(t.bot.reply({ conversationId: id, author: alice, text: "", again: true }))).toBe(
      "second try",
    );
    expect(t.fake.lastBody.messages.slice(1)).toEqual([{ role: "user", content: "name a colour" }]);
    expect((await t.bot.history(id)).map((m) => [m.role, m.text])).toEqual([
      ["user", "name a colour"],
      ["assistant", "second try"],
    ]);
    // After a reset there is nothing to answer again, and nothing is stored.
    await t.bot.reset(id);
    await expect(
      collect(t.bot.reply({ conversationId: id, author: alice, text: "", again: true })),
    ).rejects.toMatchObject({ code: "nothing_to_regenerate" });
    expect(await t.bot.exists(id)).toBe(false);
    expect(t.fake.requests).toHaveLength(2);
  });

  it("without a model, says what to configure and stores nothing", async () => {
    t = await makeTestBot();
    const bot = new Bot({
      model: null,
      store: t.store,
      log: silentLogger(),
      systemPrompt: "x",
      contextTokens: 1000,
    });
    await expect(
      collect(bot.reply({ conversationId: "web:none", author: alice, text: "hi" })),
    ).rejects.toMatchObject({
      code: "not_configured",
      userMessage: expect.stringContaining("OPENAI_API_KEY"),
    });
    expect(await t.store.exists("web:none")).toBe(false);
  });
});
