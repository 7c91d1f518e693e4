import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createStore, type KeyvConversationStore } from "../src/memory/store.js";
import { LeaseLock } from "../src/replicas/lock.js";
import { reachable } from "../tests/helpers/backends.js";
import { type EditCost, measureEditCost } from "./edit-windows.js";

/**
 * What sharing a store costs a turn: the dedupe claim plus the turn lock
 * (acquire + release) on top of the memory work every turn does anyway
 * (append user, read history, append answer). Printed per backend: added
 * latency p50/p99 and turns/s with many conversations at once. Then what
 * one edit's budget costs (the shared window on Redis and Postgres).
 */

interface Row {
  backend: string;
  memoryP50: number;
  memoryP99: number;
  sharedP50: number;
  sharedP99: number;
  turnsPerS: number;
  sharedTurnsPerS: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function memoryWork(store: KeyvConversationStore, id: string): Promise<void> {
  await store.append(id, {
    role: "user",
    text: "a question of ordinary length",
    author: { id: "U", name: "U" },
    at: Date.now(),
  });
  await store.history(id);
  await store.append(id, {
    role: "assistant",
    text: "an answer of ordinary length, a bit longer",
    at: Date.now(),
  });
}

async function sharedWork(store: KeyvConversationStore, lock: LeaseLock, id: string): Promise<void> {
  await store.state.claim(`event:${randomUUID()}`, 3_600_000);
  const lease = await lock.acquire(id);
  await memoryWork(store, id);
  await lease.release();
}

async function measure(backend: string, url: string, turns: number, concurrency: number): Promise<Row> {
  const store = createStore(url, { maxMessages: 100, ttlMs: 600_000, purgeIntervalMs: 0 });
  const lock = new LeaseLock(store.coordination.atomic, { leaseMs: 30_000 });
  const run = `bench:${randomUUID()}`;
  // Warm up connections and prepared paths.
  for (let i = 0; i < 20; i++) await sharedWork(store, lock, `${run}:warm`);
  const memory: number[] = [];
  const shared: number[] = [];
  for (let i = 0; i < turns; i++) {
    const id = `${run}:seq:${i % 20}`;
    let t = performance.now();
    await memoryWork(store, id);
    memory.push(performance.now() - t);
    t = performance.now();
    await sharedWork(store, lock, id);
    shared.push(performance.now() - t - memory.at(-1)!);
  }
  const throughput = async (withShared: boolean) => {
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (next < turns) {
          next++;
          const id = `${run}:par:${w}`;
          if (withShared) await sharedWork(store, lock, id);
          else await memoryWork(store, id);
        }
      }),
    );
    return turns / ((performance.now() - t) / 1000);
  };
  const turnsPerS = await throughput(false);
  const sharedTurnsPerS = await throughput(true);
  await store.close();
  return {
    backend,
    memoryP50: pct(memory, 50),
    memoryP99: pct(memory, 99),
    sharedP50: pct(shared, 50),
    sharedP99: pct(shared, 99),
    turnsPerS,
    sharedTurnsPerS,
  };
}

/** Runs the benchmark and prints its table; `turns` per backend (default 500). */
export async function runReplicaBench(turns = Number(process.env.BENCH_REPLICA_TURNS ?? 500)): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "chatbot-bench-"));
  const backends: Array<[string, string]> = [
    ["sqlite", `sqlite://${join(dir, "bench.sqlite")}`],
    ["redis", process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379"],
    ["postgres", process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test"],
  ];
  const rows: Row[] = [];
  const edits: Array<[string, EditCost]> = [];
  for (const [name, url] of backends) {
    if (name !== "sqlite" && !(await reachable(url))) {
      console.log(`(${name} not reachable at ${url}: skipped)`);
      continue;
    }
    rows.push(await measure(name, url, turns, 50));
    // Three replicas on a shared store; SQLite serves one process.
    const stores = Array.from({ length: name === "sqlite" ? 1 : 3 }, () =>
      createStore(url, { maxMessages: 100, ttlMs: 600_000, purgeIntervalMs: 0 }),
    );
    edits.push([name, await measureEditCost(stores, turns * 2)]);
    for (const s of stores) await s.close();
  }
  rmSync(dir, { recursive: true, force: true });
  const f = (n: number) => n.toFixed(2);
  console.log(`\n### Shared store: added cost of dedupe + turn lock per turn (${turns} turns per backend)\n`);
  console.log(
    "| backend | memory work p50 / p99 (ms) | + dedupe & lock p50 / p99 (ms) | turns/s, memory only (50 at once) | turns/s, with dedupe & lock |",
  );
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${f(r.memoryP50)} / ${f(r.memoryP99)} | ${f(r.sharedP50)} / ${f(r.sharedP99)} | ${r.turnsPerS.toFixed(0)} | ${r.sharedTurnsPerS.toFixed(0)} |`,
    );
  }
  console.log(
    `\n### Edit budgets: cost per edit (${turns * 2} edits alone; 3 replicas x 10 streams at once)\n`,
  );
  console.log(
    "| backend | budget | per edit, alone p50 / p99 (ms) | per edit, 30 streams at once p50 / p99 (ms) |",
  );
  console.log("|---|---|---|---|");
  for (const [name, e] of edits) {
    const kind = name === "sqlite" ? "this process's own" : "shared window in the backend";
    console.log(
      `| ${name} | ${kind} | ${f(e.aloneP50)} / ${f(e.aloneP99)} | ${f(e.busyP50)} / ${f(e.busyP99)} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runReplicaBench();
}
