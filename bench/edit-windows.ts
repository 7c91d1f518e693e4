import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { KeyvConversationStore } from "../src/memory/store.js";
import { SharedEditBudgets } from "../src/replicas/shared-budget.js";
import { type EditBudgetSource, EditBudgets } from "../src/stream/index.js";

/** One backend's cost of drawing an edit from its budget (ms), alone and with streams at once. */
export interface EditCost {
  aloneP50: number;
  aloneP99: number;
  busyP50: number;
  busyP99: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/** Slack's chat.update: about 50 per minute per workspace. */
const EDITS = 50;
const PER_MS = 60_000;

/**
 * What one edit's budget costs on a store: the local window only where the
 * store has no shared windows (SQLite), else the local one and the shared
 * window in the backend (one round trip). Each scope draws at most 40 of its
 * 50, so nothing ever waits for the window: the figure is the bookkeeping.
 * "Busy": `stores.length` replicas, each with 10 streams at once on 10 scopes.
 */
export async function measureEditCost(stores: KeyvConversationStore[], edits: number): Promise<EditCost> {
  const name = `bench-${randomUUID()}`;
  const sources: EditBudgetSource[] = stores.map((store) => {
    const local = new EditBudgets({ edits: EDITS, perMs: PER_MS, paceMs: 0 });
    const windows = store.coordination.windows;
    return windows ? new SharedEditBudgets(local, windows, { edits: EDITS, perMs: PER_MS, name }) : local;
  });
  const first = sources[0] as EditBudgetSource;
  // Warm up connections and the table.
  for (let i = 0; i < 10; i++) await first.get(`warm:${i}`).acquire(undefined, "final");
  const alone: number[] = [];
  for (let i = 0; i < edits; i++) {
    const t = performance.now();
    await first.get(`alone:${i % Math.ceil(edits / 40)}`).acquire(undefined, "final");
    alone.push(performance.now() - t);
  }
  const busy: number[] = [];
  const perStream = Math.max(1, Math.floor(40 / sources.length));
  await Promise.all(
    sources.flatMap((source) =>
      Array.from({ length: 10 }, async (_, s) => {
        for (let i = 0; i < perStream; i++) {
          const t = performance.now();
          await source.get(`busy:${s}`).acquire(undefined, "final");
          busy.push(performance.now() - t);
        }
      }),
    ),
  );
  return {
    aloneP50: pct(alone, 50),
    aloneP99: pct(alone, 99),
    busyP50: pct(busy, 50),
    busyP99: pct(busy, 99),
  };
}
