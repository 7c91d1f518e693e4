import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { LeaseLock } from "../../src/replicas/lock.js";
import { Bot } from "../../src/turn/index.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";

const urls: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-lock-")), "l.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
  postgres: async () => ((await backendAvailable("postgres")) ? BACKENDS.postgres : null),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(Object.keys(urls))("turn lock on %s", (backend) => {
  // Two stores on one backend stand for two replicas.
  let a: KeyvConversationStore | undefined;
  let b: KeyvConversationStore | undefined;
  beforeAll(async () => {
    const url = await urls[backend]!();
    if (!url) return;
    a = createStore(url, { maxMessages: 50, ttlMs: 60_000, purgeIntervalMs: 0 });
    b = createStore(url, { maxMessages: 50, ttlMs: 60_000, purgeIntervalMs: 0 });
  });
  afterAll(async () => {
    await a?.close();
    if (backend !== "postgres") await b?.close();
  });

  it("lets one holder at a time, the other waits and then gets it", async (ctx) => {
    if (!a || !b) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const lockA = new LeaseLock(a.coordination.atomic, { leaseMs: 2_000, pollMs: 20 });
    const lockB = new LeaseLock(b.coordination.atomic, { leaseMs: 2_000, pollMs: 20 });
    const events: string[] = [];
    const first = await lockA.acquire(key);
    events.push("a got it");
    const second = lockB.acquire(key).then((lease) => {
      events.push("b got it");
      return lease;
    });
    await sleep(150);
    events.push("a releases");
    await first.release();
    const lease = await second;
    await lease.release();
    expect(events).toEqual(["a got it", "a releases", "b got it"]);
  });

  it("keeps the lease while the holder runs longer than the lease", async (ctx) => {
    if (!a || !b) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const holder = await new LeaseLock(a.coordination.atomic, { leaseMs: 300 }).acquire(key);
    let taken = false;
    const waiter = new LeaseLock(b.coordination.atomic, { leaseMs: 300, pollMs: 20 })
      .acquire(key)
      .then((l) => {
        taken = true;
        return l;
      });
    await sleep(1_000);
    expect(taken).toBe(false);
    expect(holder.lost).toBe(false);
    await holder.release();
    await (await waiter).release();
    expect(taken).toBe(true);
  });

  it("a crashed holder's lease runs out and the next waiter takes over", async (ctx) => {
    if (!a || !b) return ctx.skip();
    const key = `c:${randomUUID()}`;
    // A holder that took the lock and died: nobody renews or releases it.
    expect(await a.coordination.atomic.setIfAbsent(`lock:${key}`, "dead-replica", 400)).toBe(true);
    const lease = await new LeaseLock(b.coordination.atomic, { leaseMs: 400, pollMs: 20 }).acquire(key);
    await lease.release();
    // Only the holder's token releases a lock.
    expect(await a.coordination.atomic.deleteIf(`lock:${key}`, "someone-else")).toBe(false);
  });

  it("an aborted waiter gives up", async (ctx) => {
    if (!a || !b) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const holder = await new LeaseLock(a.coordination.atomic, { leaseMs: 2_000 }).acquire(key);
    const controller = new AbortController();
    const waiting = new LeaseLock(b.coordination.atomic, { leaseMs: 2_000, pollMs: 20 }).acquire(
      key,
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error("gave up")), 100);
    await expect(waiting).rejects.toThrow("gave up");
    await holder.release();
  });
});

describe.each(["redis", "postgres"] as const)("turn lock in arrival order on %s", (backend) => {
  let stores: KeyvConversationStore[] = [];
  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    stores = [0, 1, 2, 3].map(() =>
      createStore(BACKENDS[backend], { maxMessages: 50, ttlMs: 60_000, purgeIntervalMs: 0 }),
    );
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  const lockOn = (s: KeyvConversationStore, leaseMs = 2_000) =>
    new LeaseLock(s.coordination.atomic, {
      leaseMs,
      pollMs: 20,
      settleMs: 0,
      ...(s.coordination.waiting ? { waiting: s.coordination.waiting } : {}),
    });

  it("grants waiters on three replicas the lock in their messages' order, not in the order they asked", async (ctx) => {
    if (stores.length === 0) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const [holderStore, ...waiterStores] = stores;
    const holder = await lockOn(holderStore!).acquire(key, undefined, 1_000);
    const order: number[] = [];
    // They ask in the order 3, 1, 2; the messages arrived 1, 2, 3.
    const asks = [3, 1, 2].map(async (n, i) => {
      await sleep(60 * i);
      const lease = await lockOn(waiterStores[i]!).acquire(key, undefined, 1_000 + n);
      order.push(n);
      await sleep(30);
      await lease.release();
    });
    await sleep(300);
    await holder.release();
    await Promise.all(asks);
    expect(order).toEqual([1, 2, 3]);
  });

  it("a waiter that died drops out of the line, and the one behind it gets the lock", async (ctx) => {
    if (stores.length === 0) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const waiting = stores[0]!.coordination.waiting!;
    // A waiter that joined first, then its process died: nobody renews its place.
    await waiting.join(`turns:${key}`, "dead-waiter", 1, 300);
    const lease = await lockOn(stores[1]!).acquire(key, undefined, 2);
    await lease.release();
  });

  it("keeps a lease through a stall longer than the lease when nobody took it meanwhile", async (ctx) => {
    if (stores.length === 0) return ctx.skip();
    const key = `c:${randomUUID()}`;
    const lease = await lockOn(stores[0]!, 300).acquire(key, undefined, 1);
    // The event loop blocked for over a lease: no renewal ran.
    const until = Date.now() + 600;
    while (Date.now() < until) {}
    await sleep(200);
    expect(lease.lost).toBe(false);
    // And it holds: another replica cannot take it.
    expect(await stores[1]!.coordination.atomic.setIfAbsent(`lock:${key}`, "other", 1_000)).toBe(false);
    await lease.release();
  });
});

describe("two bot replicas sharing Redis", () => {
  let t: TestBot | undefined;
  let other: KeyvConversationStore | undefined;
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  it("answer two messages of one thread in order, each with the other's history", async (ctx) => {
    if (!(await backendAvailable("redis"))) return ctx.skip();
    t = await makeTestBot({ storeUrl: BACKENDS.redis });
    other = createStore(BACKENDS.redis, { maxMessages: 50, ttlMs: 60_000, purgeIntervalMs: 0 });
    const lockOf = (s: KeyvConversationStore) =>
      new LeaseLock(s.coordination.atomic, { leaseMs: 2_000, pollMs: 10 });
    const replica1 = new Bot({
      model: t.bot.model,
      store: t.store,
      log: silentLogger(),
      systemPrompt: "s",
      contextTokens: 4_000,
      lock: lockOf(t.store),
    });
    const replica2 = new Bot({
      model: t.bot.model,
      store: other,
      log: silentLogger(),
      systemPrompt: "s",
      contextTokens: 4_000,
      lock: lockOf(other),
    });
    t.fake.respond((body) => ({ text: `re: ${body.messages.at(-1).content}`, chunkDelayMs: 10 }));
    const id = `slack:T:C:${randomUUID()}`;
    const collect = async (it: AsyncIterable<unknown>) => {
      let s = "";
      for await (const d of it) if (typeof d === "string") s += d;
      return s;
    };
    const before = t.fake.requests.length;
    const first = collect(
      replica1.reply({ conversationId: id, author: { id: "U1", name: "Ann" }, text: "first" }),
    );
    // The first turn holds the lock once its request reached the model.
    while (t.fake.requests.length === before) await sleep(5);
    const second = collect(
      replica2.reply({ conversationId: id, author: { id: "U1", name: "Ann" }, text: "second" }),
    );
    expect(await Promise.all([first, second])).toEqual(["re: first", "re: second"]);
    const lastRequest = t.fake.requests.at(-1)!.body.messages.slice(1);
    expect(lastRequest).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "re: first" },
      { role: "user", content: "second" },
    ]);
    // A reset on one replica is seen by the next turn on the other.
    await replica2.reset(id);
    await collect(replica1.reply({ conversationId: id, author: { id: "U1", name: "Ann" }, text: "third" }));
    expect(t.fake.requests.at(-1)!.body.messages.slice(1)).toEqual([{ role: "user", content: "third" }]);
  });
});
