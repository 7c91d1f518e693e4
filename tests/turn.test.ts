import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AbortedError, BusyError } from "../src/errors.js";
import { AnthropicModel } from "../src/llm/anthropic.js";
import { silentLogger } from "../src/log.js";
import type { StreamItem } from "../src/stream/types.js";
import { Bot, ModelCallLimiter } from "../src/turn/index.js";
import { PartialAnswerWriter } from "../src/turn/partial.js";
import { FakeAnthropic } from "./fakes/anthropic.js";
import { makeTestBot } from "./helpers/bot.js";

async function collect(it: AsyncIterable<StreamItem>): Promise<string> {
  let s = "";
  for await (const d of it) if (typeof d === "string") s += d;
  return s;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ModelCallLimiter: the global cap on model calls", () => {
  it("grants up to the cap, queues the next in order, and refuses one that waited its longest", async () => {
    vi.useFakeTimers();
    const limiter = new ModelCallLimiter({ maxConcurrent: 2, queueTimeoutMs: 1_000 });
    const a = await limiter.acquire();
    await limiter.acquire();
    const order: string[] = [];
    const third = limiter.acquire().then((release) => {
      order.push("third");
      return release;
    });
    const fourth = limiter.acquire().then(
      () => order.push("fourth"),
      (err: unknown) => err,
    );
    expect([limiter.active, limiter.queued]).toEqual([2, 2]);
    a();
    a(); // a second release of the same call changes nothing
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(["third"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await fourth).toBeInstanceOf(BusyError);
    expect([limiter.active, limiter.queued]).toEqual([2, 0]);
    (await third)();
    expect(limiter.active).toBe(1);
  });

  it("refuses at once with no queue time, and lets a stopped turn leave the queue", async () => {
    const none = new ModelCallLimiter({ maxConcurrent: 1, queueTimeoutMs: 0 });
    await none.acquire();
    await expect(none.acquire()).rejects.toBeInstanceOf(BusyError);
    const limiter = new ModelCallLimiter({ maxConcurrent: 1, queueTimeoutMs: 60_000 });
    await limiter.acquire();
    const stop = new AbortController();
    const waiting = limiter.acquire(stop.signal);
    stop.abort(new AbortedError());
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.queued).toBe(0);
  });
});

describe("PartialAnswerWriter: the answer so far, coalesced", () => {
  it("writes at most once per interval, the newest text, and nothing after settle", async () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    const writer = new PartialAnswerWriter(
      async (text) => void writes.push(text),
      1_000,
      () => undefined,
    );
    let text = "";
    for (let i = 0; i < 100; i++) {
      text += `t${i} `;
      writer.update(text);
    }
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes).toEqual([text]);
    for (let i = 100; i < 150; i++) {
      text += `t${i} `;
      writer.update(text);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe(text);
    writer.update(`${text}late`);
    await writer.settle();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(writes).toHaveLength(2);
  });
});

describe("the Bot keeps a streaming answer in the store", () => {
  it("shows the answer so far, marked incomplete, while it streams, and the whole answer after", async () => {
    const t = await makeTestBot({ botOptions: { partialSaveMs: 50 } });
    try {
      const chunks = Array.from({ length: 40 }, (_, i) => `w${i} `);
      t.fake.respond(() => ({ chunks, chunkDelayMs: 20 }));
      const id = `web:${randomUUID()}`;
      const seen: string[] = [];
      let text = "";
      for await (const delta of t.bot.reply({
        conversationId: id,
        author: { id: "u", name: "U" },
        text: "go",
      })) {
        if (typeof delta === "string") text += delta;
        if (text.length > 60 && seen.length === 0) {
          await vi.waitFor(async () => {
            const [, answer] = await t.bot.history(id);
            expect(answer?.incomplete).toBe(true);
            expect(answer?.text.length).toBeGreaterThan(0);
            seen.push(answer!.text);
          });
        }
      }
      expect(text.startsWith(seen[0]!)).toBe(true);
      const history = await t.bot.history(id);
      expect(history.map((m) => [m.role, m.text, m.incomplete])).toEqual([
        ["user", "go", undefined],
        ["assistant", chunks.join(""), undefined],
      ]);
    } finally {
      await t.close();
    }
  });
});

describe("providers that want alternating turns", () => {
  it("never get two user messages in a row from Anthropic's model, even from a history that has them", async () => {
    const fake = await FakeAnthropic.start();
    const t = await makeTestBot();
    try {
      const model = new AnthropicModel({
        model: "claude-test",
        apiKey: "k-test",
        baseUrl: fake.baseUrl,
        maxOutputTokens: 100,
        idleTimeoutMs: 5_000,
        maxRetries: 0,
      });
      const bot = new Bot({
        model,
        store: t.store,
        log: silentLogger(),
        systemPrompt: "s",
        contextTokens: 4_000,
      });
      const id = `web:${randomUUID()}`;
      // A question whose answer was never stored (a crash before answers were kept as they streamed).
      await t.store.append(id, {
        role: "user",
        text: "lost question",
        author: { id: "u", name: "U" },
        at: 1,
      });
      expect(
        await collect(bot.reply({ conversationId: id, author: { id: "u", name: "U" }, text: "again?" })),
      ).toBe("You said: lost question\n\nagain?");
      expect(fake.lastBody.messages.map((m: { role: string }) => m.role)).toEqual(["user"]);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
