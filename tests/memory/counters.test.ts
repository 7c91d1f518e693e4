import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const backends: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-counters-")), "c.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
  postgres: async () => ((await backendAvailable("postgres")) ? BACKENDS.postgres : null),
};

const open = (url: string) => createStore(url, { maxMessages: 10, ttlMs: 60_000, purgeIntervalMs: 0 });

describe.each(Object.keys(backends))("counters on %s", (name) => {
  let stores: KeyvConversationStore[] = [];
  afterEach(async () => {
    for (const s of stores) await s.close();
    stores = [];
  });

  it("adds to fields, answers the totals after each add, and reads and lists them back", async (ctx) => {
    const url = await backends[name]!();
    if (!url) return ctx.skip();
    const store = open(url);
    stores.push(store);
    const counters = store.coordination.counters;
    const p = `t-${randomUUID()}:`;
    const first = await counters.add([
      { key: `${p}a`, add: { tokens: 10, cost: 0.25 }, ttlMs: 60_000, listedUnder: [p] },
      { key: `${p}b`, add: { tokens: 3 }, ttlMs: 60_000, listedUnder: [p] },
    ]);
    expect(first).toEqual([{ tokens: 10, cost: 0.25 }, { tokens: 3 }]);
    const second = await counters.add([
      { key: `${p}a`, add: { tokens: 5, cost: 1 }, ttlMs: 60_000, listedUnder: [p] },
    ]);
    expect(second).toEqual([{ tokens: 15, cost: 1.25 }]);
    expect(await counters.read([`${p}a`, `${p}missing`, `${p}b`])).toEqual([
      { tokens: 15, cost: 1.25 },
      {},
      { tokens: 3 },
    ]);
    expect(await counters.list(p)).toEqual([
      { key: `${p}a`, values: { tokens: 15, cost: 1.25 } },
      { key: `${p}b`, values: { tokens: 3 } },
    ]);
    expect(await counters.list(`other-${randomUUID()}:`)).toEqual([]);
  });

  it("two stores (as two replicas) adding 200 times at once lose no increment", async (ctx) => {
    const url = await backends[name]!();
    if (!url) return ctx.skip();
    const a = open(url);
    const b = name === "sqlite" ? a : open(url);
    stores.push(a, ...(b === a ? [] : [b]));
    const key = `race-${randomUUID()}`;
    const shared = `shared-${randomUUID()}`;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? a : b).coordination.counters.add([
          // The shared key comes first for some adds and last for others: no deadlock either way.
          ...(i % 3 === 0 ? [{ key: shared, add: { n: 1 }, ttlMs: 60_000 }] : []),
          { key, add: { turns: 1, tokens: 7, cost: 0.001 }, ttlMs: 60_000 },
          ...(i % 3 !== 0 ? [{ key: shared, add: { n: 1 }, ttlMs: 60_000 }] : []),
        ]),
      ),
    );
    const [totals, other] = await a.coordination.counters.read([key, shared]);
    expect(totals?.turns).toBe(200);
    expect(totals?.tokens).toBe(1_400);
    expect(totals?.cost).toBeCloseTo(0.2, 9);
    expect(other).toEqual({ n: 200 });
  });
});
