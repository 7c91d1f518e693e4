import { type Mode, runScenario, type ScenarioOptions, type ScenarioResult } from "./scenario.js";

/**
 * The streaming-by-editing benchmark: the real renderByEditing (and a naive
 * baseline in the same process) against simulated models and a simulated
 * platform with Discord's per-channel limit, at several concurrency levels.
 * Every size is configurable by environment variable or `--name=value`.
 */
export interface StreamBenchOptions {
  /**
   * Runs as "streams:channels" (BENCH_STREAMS, default 1:1,10:10,100:10,1000:100: one
   * stream alone, ten alone in their channels, then ten per channel). A size
   * without ":channels" gets BENCH_STREAMS_PER_CHANNEL (default 10) per channel.
   */
  sizes: { streams: number; channels: number }[];
  /** Tokens of an ordinary answer; every tenth is 3x (BENCH_TOKENS, default 120). */
  tokens: number;
  /** Model speed (BENCH_TOKENS_PER_S, default 50) and time to first token (BENCH_TTFT_MS, default 500). */
  tokensPerS: number;
  ttftMs: number;
  /** Platform round trip (BENCH_LATENCY_MS, default 100). */
  latencyMs: number;
  /** Platform limit per channel (BENCH_EDITS / BENCH_PER_MS, default 5 per 5,000 ms) and message size (BENCH_MAX_CHARS, 2,000). */
  edits: number;
  perMs: number;
  maxChars: number;
  /** Streams start spread over this window (BENCH_START_SPREAD_MS, default 1,000). */
  startSpreadMs: number;
  /** Stream counts the naive baseline also runs at (BENCH_NAIVE, default 1,10,1000; "all" or "none"). */
  naive: (streams: number) => boolean;
}

/** Options from `--streams=1,10 --tokens=200 ...` arguments, then BENCH_* variables, then defaults. */
export function streamBenchOptions(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): StreamBenchOptions {
  const args = new Map(
    argv
      .filter((a) => a.startsWith("--") && a.includes("="))
      .map((a) => a.slice(2).split("=", 2) as [string, string]),
  );
  const get = (name: string, fallback: string) =>
    args.get(name.replace(/_/g, "-")) ?? env[`BENCH_${name.toUpperCase()}`] ?? fallback;
  const num = (name: string, fallback: number) => {
    const value = Number(get(name, String(fallback)));
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench: ${name} must be a non-negative number`);
    return value;
  };
  const perChannel = Math.max(1, num("streams_per_channel", 10));
  const naive = get("naive", "1,10,1000").trim();
  const naiveSizes = new Set(naive.split(",").map((n) => Number(n.trim())));
  return {
    sizes: get("streams", "1:1,10:10,100:10,1000:100")
      .split(",")
      .map((spec) => {
        const [streams, channels] = spec.split(":").map((n) => Number(n.trim()));
        if (!streams || streams < 1) throw new Error(`bench: bad size "${spec}" (streams[:channels])`);
        return { streams, channels: channels || Math.ceil(streams / perChannel) };
      }),
    tokens: num("tokens", 120),
    tokensPerS: num("tokens_per_s", 50),
    ttftMs: num("ttft_ms", 500),
    latencyMs: num("latency_ms", 100),
    edits: num("edits", 5),
    perMs: num("per_ms", 5_000),
    maxChars: num("max_chars", 2_000),
    startSpreadMs: num("start_spread_ms", 1_000),
    naive: (streams) => naive === "all" || (naive !== "none" && naiveSizes.has(streams)),
  };
}

/** Runs with fewer tokens than this get no "net" CPU figure (see the † note). */
const MIN_TOKENS_FOR_CPU = 10_000;

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const ms = (n: number) => (Number.isNaN(n) ? "-" : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : n.toFixed(0));
const pair = (xs: number[], f: (n: number) => string = ms) => `${f(pct(xs, 50))} / ${f(pct(xs, 99))}`;

function row(r: ScenarioResult, simCpuMsPer1k: number): string {
  const o = r.options;
  return [
    `${o.streams} (${r.channels} ch)`,
    o.mode,
    pair(r.firstText),
    pair(r.finalText),
    pair(r.lagChars, (n) => n.toFixed(0)),
    pair(r.lagMs),
    r.editsPerReply.toFixed(1),
    String(r.rateLimited),
    `${(r.exact * 100).toFixed(1)}%`,
    Number.isNaN(simCpuMsPer1k)
      ? `${r.cpuMsPer1kTokens.toFixed(0)} / – †`
      : `${r.cpuMsPer1kTokens.toFixed(1)} / ${Math.max(0, r.cpuMsPer1kTokens - simCpuMsPer1k).toFixed(1)}`,
    r.loopDelayP99Ms.toFixed(0),
    r.wallS.toFixed(1),
  ].join(" | ");
}

export async function runStreamBench(options: StreamBenchOptions = streamBenchOptions()): Promise<void> {
  const o = options;
  console.log(
    `\n### Streaming by editing: ${o.tokens} tokens per answer (every 10th ${o.tokens * 3}) at ${o.tokensPerS} tokens/s, ` +
      `first token after ${o.ttftMs} ms; platform round trip ${o.latencyMs} ms (applied half-way), ` +
      `${o.edits} requests per ${o.perMs} ms per channel (429 beyond), ${o.maxChars} chars per message\n`,
  );
  const header = [
    "streams",
    "renderer",
    "1st token → 1st text p50 / p99 (ms)",
    "last token → final p50 / p99 (ms)",
    "lag p50 / p99 (chars)",
    "lag p50 / p99 (ms)",
    "edits / reply",
    "429s",
    "exact",
    "CPU ms / 1k tokens (total / net of sim models)",
    "loop delay p99 (ms)",
    "wall (s)",
  ];
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  const base = { ...o, channels: 1, streams: 1 };
  // Unmeasured warm-up, so JIT compilation does not land in the first row's CPU figure.
  for (const mode of ["renderByEditing", "naive", "models only"] as Mode[]) {
    await runScenario({
      ...base,
      mode,
      streams: 20,
      channels: 20,
      tokens: 40,
      ttftMs: 50,
      startSpreadMs: 100,
    });
  }
  for (const { streams, channels } of o.sizes) {
    const scenario: ScenarioOptions = { ...base, mode: "models only", streams, channels };
    // The same simulated models without rendering: their CPU is subtracted for the "net"
    // figure. Small runs are dominated by the process's fixed idle cost: not worth it there.
    const simCpu =
      streams * o.tokens >= MIN_TOKENS_FOR_CPU ? (await runScenario(scenario)).cpuMsPer1kTokens : Number.NaN;
    const modes: Mode[] = o.naive(streams) ? ["renderByEditing", "naive"] : ["renderByEditing"];
    for (const mode of modes) {
      console.log(`| ${row(await runScenario({ ...scenario, mode }), simCpu)} |`);
    }
  }
  console.log(
    `\n† Under ${MIN_TOKENS_FOR_CPU / 1000}k tokens per run, CPU per token is dominated by the process's fixed idle ` +
      "cost (timers, the loop-delay monitor), not by rendering; the net figure is measured from 100 streams up.",
  );
}
