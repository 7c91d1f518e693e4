import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import type { StoredMessage } from "../../src/memory/types.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const urls: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-store-")), "sub", "m.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
  postgres: async () => ((await backendAvailable("postgres")) ? BACKENDS.postgres : null),
};

const msg = (text: string, role: StoredMessage["role"] = "user"): StoredMessage => ({
  role,
  text,
  at: Date.now(),
  ...(role === "user" ? { author: { id: "U1", name: "Ann" } } : {}),
});

describe.each(Object.keys(urls))("ConversationStore on %s", (backend) => {
  let store: KeyvConversationStore | undefined;
  let short: KeyvConversationStore | undefined;
  let skip = false;
  // Ids unique per run: Redis and Postgres outlive the test.
  const id = (name: string) => `test:${randomUUID()}:${name}`;

  beforeAll(async () => {
    const url = await urls[backend]!();
    if (!url) {
      skip = true;
      return;
    }
    store = createStore(url, { maxMessages: 5, ttlMs: 60_000, purgeIntervalMs: 0 });
    short = createStore(url, { maxMessages: 5, ttlMs: 300, purgeIntervalMs: 0 });
  });
  afterAll(async () => {
    await store?.close();
    await short?.close();
  });

  it("appends and reads back in order, with author and time", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("order");
    expect(await store.exists(c)).toBe(false);
    expect(await store.history(c)).toEqual([]);
    await store.append(c, msg("hello"));
    await store.append(c, msg("hi there", "assistant"));
    const h = await store.history(c);
    expect(h.map((m) => m.text)).toEqual(["hello", "hi there"]);
    expect(h[0]!.author).toEqual({ id: "U1", name: "Ann" });
    expect(typeof h[0]!.at).toBe("number");
    expect(await store.exists(c)).toBe(true);
  });

  it("keeps only the newest maxMessages", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("window");
    for (let i = 0; i < 8; i++) await store.append(c, msg(`m${i}`));
    expect((await store.history(c)).map((m) => m.text)).toEqual(["m3", "m4", "m5", "m6", "m7"]);
    expect((await store.history(c, 2)).map((m) => m.text)).toEqual(["m6", "m7"]);
  });

  it("reset forgets one conversation and leaves others; the next message starts fresh", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const a = id("a");
    const b = id("b");
    await store.append(a, msg("a1"));
    await store.append(b, msg("b1"));
    await store.reset(a);
    expect(await store.history(a)).toEqual([]);
    expect(await store.exists(a)).toBe(false);
    expect((await store.history(b)).map((m) => m.text)).toEqual(["b1"]);
    await store.append(a, msg("a2"));
    expect((await store.history(a)).map((m) => m.text)).toEqual(["a2"]);
    await store.delete(b);
    expect(await store.exists(b)).toBe(false);
  });

  it("an append tied to a generation is dropped after a reset, and lands while it is live", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("generation");
    const generation = await store.append(c, msg("question"));
    expect(generation).toEqual(expect.any(String));
    expect(await store.append(c, msg("answer", "assistant"), { ifGeneration: generation })).toBe(generation);
    await store.reset(c);
    expect(
      await store.append(c, msg("late answer", "assistant"), { ifGeneration: generation }),
    ).toBeUndefined();
    expect(await store.history(c)).toEqual([]);
    const fresh = await store.append(c, msg("new question"));
    expect(fresh).not.toBe(generation);
  });

  it("dropLastAnswer takes back the last answer only, so the next append replaces it", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("regenerate");
    expect(await store.dropLastAnswer(c)).toBeUndefined();
    const generation = await store.append(c, msg("question"));
    await store.append(c, msg("first answer", "assistant"));
    expect(await store.dropLastAnswer(c)).toBe(generation);
    expect((await store.history(c)).map((m) => m.text)).toEqual(["question"]);
    // The question is kept: dropping again takes nothing more.
    expect(await store.dropLastAnswer(c)).toBe(generation);
    await store.append(c, msg("second answer", "assistant"), { ifGeneration: generation });
    expect((await store.history(c)).map((m) => [m.role, m.text])).toEqual([
      ["user", "question"],
      ["assistant", "second answer"],
    ]);
    await store.reset(c);
    expect(await store.dropLastAnswer(c)).toBeUndefined();
  });

  it("resetScope forgets every conversation under a prefix, not its neighbours", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const team = `slack:T${randomUUID()}`;
    const t1 = `${team}:C1:1.1`;
    const t2 = `${team}:C1:2.2`;
    const other = `${team}:C2:1.1`;
    const lookalike = `${team}:C10:1.1`;
    for (const c of [t1, t2, other, lookalike]) await store.append(c, msg("x"));
    await store.resetScope(`${team}:C1`);
    expect(await store.exists(t1)).toBe(false);
    expect(await store.exists(t2)).toBe(false);
    expect(await store.exists(other)).toBe(true);
    expect(await store.exists(lookalike)).toBe(true);
    // A thread started after the reset is remembered again.
    await store.append(t1, msg("after"));
    expect((await store.history(t1)).map((m) => m.text)).toEqual(["after"]);
  });

  it("an answer still streaming when its channel is reset stays forgotten", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const team = `slack:T${randomUUID()}`;
    const thread = `${team}:C1:1.1`;
    await store.append(thread, msg("question"));
    const slot = await store.appendSlot(thread, { ...msg("Half an ans", "assistant"), incomplete: true });
    await store.resetScope(`${team}:C1`);
    // The stream goes on writing its text in place after the reset (once a second).
    if (slot) await store.rewrite(thread, slot, msg("Half an answer, then more", "assistant"));
    expect(await store.exists(thread)).toBe(false);
    expect(await store.history(thread)).toEqual([]);
    await store.append(thread, msg("after"));
    expect((await store.history(thread)).map((m) => m.text)).toEqual(["after"]);
  });

  it("expires conversations after the TTL", async (ctx) => {
    if (skip || !short) return ctx.skip();
    const c = id("ttl");
    await short.append(c, msg("soon gone"));
    expect(await short.exists(c)).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
    expect(await short.exists(c)).toBe(false);
    expect(await short.history(c)).toEqual([]);
    if (backend !== "redis") expect(await short.purgeExpired()).toBeGreaterThanOrEqual(0);
  });

  it("appending costs the same number of backend operations at message 5 and 500", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("cost");
    const keyv = (store as unknown as { keyv: { get: unknown; set: unknown; getMany: unknown } }).keyv;
    const counts = { ops: 0, bytes: 0 };
    for (const name of ["get", "set", "getMany"] as const) {
      const original = (keyv[name] as (...a: unknown[]) => Promise<unknown>).bind(keyv);
      keyv[name] = (...args: unknown[]) => {
        counts.ops++;
        counts.bytes += JSON.stringify(args[1] ?? "").length;
        return original(...args);
      };
    }
    const measure = async () => {
      counts.ops = 0;
      counts.bytes = 0;
      await store!.append(c, msg("same size"));
      return { ...counts };
    };
    for (let i = 0; i < 4; i++) await store.append(c, msg("same size"));
    const at5 = await measure();
    for (let i = 0; i < 495; i++) await store.append(c, msg("same size"));
    const at500 = await measure();
    expect(at500.ops).toBe(at5.ops);
    // Only the digits of the message counter differ.
    expect(Math.abs(at500.bytes - at5.bytes)).toBeLessThanOrEqual(4);
    for (const name of ["get", "set", "getMany"] as const) delete (keyv as Record<string, unknown>)[name];
  });

  it("claim lets exactly one of many concurrent callers win", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const key = `dedupe:${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => store!.state.claim(key, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.state.claim(key, 60_000)).toBe(false);
    await store.state.set(`k:${key}`, { joined: true }, 60_000);
    expect(await store.state.get(`k:${key}`)).toEqual({ joined: true });
    await store.state.delete(`k:${key}`);
    expect(await store.state.get(`k:${key}`)).toBeUndefined();
  });
});

describe("STORE_URL", () => {
  it("rejects an unknown scheme with a message naming the choices", () => {
    expect(() => createStore("mysql://x", { maxMessages: 5, ttlMs: 1000 })).toThrow(
      /sqlite:\/\/, redis:\/\/ or postgres:\/\//,
    );
  });
});
