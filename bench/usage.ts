import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { ChatModel } from "../src/llm/index.js";
import { silentLogger } from "../src/log.js";
import { createStore } from "../src/memory/store.js";
import { countOpenAITokens } from "../src/memory/tokens.js";
import { PlaceSettings } from "../src/settings/index.js";
import { Bot } from "../src/turn/index.js";
import { settleUsage, UsageMeter } from "../src/usage/index.js";
import { BACKENDS, reachable } from "../tests/helpers/backends.js";

/**
 * What usage and budgets add to a turn, on SQLite, Redis and Postgres, with
 * limits and prices set as in a configured workspace (50 people in 10
 * channels): whole Bot turns (place settings, memory, an in-process model
 * that reports usage) with and without the UsageMeter, interleaved so both
 * see the same load; and, apart, the two store operations it adds (the
 * limit check's read, and counting's atomic write). Plus the CPU of a
 * tokenizer estimate, for a provider that reports no usage.
 */

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

interface Figures {
  plain: number[];
  metered: number[];
  admit: number[];
  record: number[];
}

/** A model that answers at once and reports its usage, as a provider's last event would. */
const model: ChatModel = {
  provider: "openai",
  model: "bench",
  vision: true,
  async *stream(_messages, options) {
    yield "An answer ";
    yield "in three deltas.";
    options?.onUsage?.({ inputTokens: 1_200, outputTokens: 300, cachedInputTokens: 400 });
  },
};

async function measure(url: string, turns: number): Promise<Figures> {
  const store = createStore(url, { maxMessages: 100, ttlMs: 600_000, purgeIntervalMs: 0 });
  const limits = { userDailyTokens: 1e9, channelDailyTokens: 1e10, userDailyCost: 1e6 };
  const meter = new UsageMeter({
    counters: store.coordination.counters,
    limits,
    prices: { bench: { input: 0.15, output: 0.6 } },
  });
  const settings = new PlaceSettings(
    store.state,
    { model: "bench", prompt: "Be brief.", models: ["bench"], limits, priced: true },
    silentLogger(),
  );
  const common = {
    model,
    store,
    log: silentLogger(),
    systemPrompt: "Be brief.",
    contextTokens: 8_000,
    settings,
  };
  const plain = new Bot(common);
  const metered = new Bot({ ...common, usage: meter });
  const workspace = `T${randomUUID()}`;
  const placeOf = (i: number) => ({ platform: "slack", workspace, channel: `C${i % 10}` });
  const turn = async (bot: Bot, i: number) => {
    const started = performance.now();
    for await (const _ of bot.reply({
      conversationId: `slack:${workspace}:C${i % 10}:${i}`,
      author: { id: `U${i % 50}`, name: "someone" },
      text: "How long does a turn take?",
      platform: "slack",
      place: placeOf(i),
    }));
    return performance.now() - started;
  };
  const out: Figures = { plain: [], metered: [], admit: [], record: [] };
  const usage = { inputTokens: 1_200, outputTokens: 300, cachedInputTokens: 400, estimated: false };
  for (let i = -50; i < turns; i++) {
    // Interleaved, and each first half the time, so both see the same load and caches.
    const [a, b] = i % 2 === 0 ? [plain, metered] : [metered, plain];
    const first = await turn(a, 2 * (i + 50));
    const second = await turn(b, 2 * (i + 50) + 1);
    const subject = { place: placeOf(i + 50), userId: `U${(i + 50) % 50}`, model: "bench" };
    const started = performance.now();
    await meter.admission(subject).admit();
    const checked = performance.now();
    await meter.record(subject, meter.withCost("bench", usage));
    const done = performance.now();
    if (i < 0) continue; // warm-up: connections, table creation, first statements
    out.plain.push(a === plain ? first : second);
    out.metered.push(a === plain ? second : first);
    out.admit.push(checked - started);
    out.record.push(done - checked);
  }
  await store.close();
  return out;
}

/** CPU of counting a turn the provider did not report: a 10-message prompt and a 4,000-character answer. */
function estimateCost(rounds: number): number[] {
  const history = Array.from({ length: 10 }, (_, i) => ({
    role: "user" as const,
    content: `Message ${i}: ${"some words of a conversation ".repeat(30)}`,
  }));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const answer = `Answer ${r}: ${"the model wrote this and that, ".repeat(130)}`;
    const started = performance.now();
    settleUsage(
      [],
      {
        input: () => history.reduce((n, m) => n + 4 + countOpenAITokens(m.content), 0),
        output: () => countOpenAITokens(answer),
      },
      true,
    );
    times.push(performance.now() - started);
  }
  return times;
}

const ms = (xs: number[]) => `${pct(xs, 50).toFixed(3)} / ${pct(xs, 99).toFixed(3)}`;

export async function runUsageBench(turns = 1_000): Promise<void> {
  console.log(
    `\n### Usage and limits: added cost per turn (${turns} turns each way, 50 people in 10 channels)\n`,
  );
  console.log(
    "| backend | turn without p50 / p99 (ms) | turn with usage p50 / p99 (ms) | added to a turn p50 (ms) | usage's store work p50 / p99 (ms) | limit check read p50 / p99 (ms) | counting write p50 / p99 (ms) |\n|---|---|---|---|---|---|---|",
  );
  const dir = mkdtempSync(join(tmpdir(), "chatbot-bench-usage-"));
  const backends: Array<[string, string]> = [["SQLite", `sqlite://${join(dir, "u.sqlite")}`]];
  if (await reachable(BACKENDS.redis)) backends.push(["Redis", BACKENDS.redis]);
  if (await reachable(BACKENDS.postgres)) backends.push(["Postgres", BACKENDS.postgres]);
  for (const [name, url] of backends) {
    const f = await measure(url, turns);
    const added = (pct(f.metered, 50) - pct(f.plain, 50)).toFixed(3);
    const work = f.admit.map((a, i) => a + (f.record[i] ?? 0));
    console.log(
      `| ${name} | ${ms(f.plain)} | ${ms(f.metered)} | ${added} | ${ms(work)} | ${ms(f.admit)} | ${ms(f.record)} |`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  countOpenAITokens("warm up the tokenizer");
  const estimate = estimateCost(500);
  console.log(
    `\n"Added to a turn": the difference of the whole turns' p50s (a difference of p99s would be noise). "Store work": the limit check's read and counting's write one after the other; in a turn the read runs beside the settings' read and the write beside storing the answer. When a provider reports no usage, the tokenizer estimate (10-message prompt, 4,000-character answer; CPU only) costs ${ms(estimate)} ms p50 / p99.`,
  );
}
