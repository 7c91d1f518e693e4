import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { startProjectBot } from "./bot.js";
import { type AnswerFigures, CURSOR, measureAnswer, pct } from "./measure.js";
import { startNaiveBot } from "./naive.js";
import { RemoteFakes } from "./remote.js";
import { answerTokens } from "./tokens.js";

/**
 * `npm run bench -- freshness`: how fresh a streaming answer looks on
 * Discord, black-box. This project's bot as main.ts composes it, and a 1 s
 * loop over the same SDKs (naive.ts), one after the other in the same run,
 * against fakes in another process (fakes.ts: sliding 5 requests per 5 s
 * per channel, 429 beyond, 80-100 ms per request). Cases: one answer alone
 * (repeated), ten at once in ten channels, ten questions queued in one
 * thread; at each model speed. CPU is the bot's process's, per 1,000 tokens.
 *
 * Then CPU alone: rounds of ten streams in ten channels at 40 tokens/s, the
 * two bots taking turns (each started afresh), so a busy moment of the
 * machine weighs on both; medians and their ratio.
 *
 * Options: --speeds=40,400 --tokens=400 --reps=3 --cases=one,ten,queued --modes=project,loop --cpu-rounds=3
 */
interface Options {
  speeds: number[];
  tokens: number;
  reps: number;
  cases: string[];
  modes: string[];
  /** Rounds of the CPU comparison (10 streams in 10 channels at 40 tokens/s), bots alternating. */
  cpuRounds: number;
}

const TTFT_MS = 300;
const WINDOW_MS = 5_000;
const MODEL = "gpt-bench";

function options(argv = process.argv.slice(2)): Options {
  const args = new Map(
    argv
      .filter((a) => a.startsWith("--") && a.includes("="))
      .map((a) => a.slice(2).split("=", 2) as [string, string]),
  );
  const list = (name: string, fallback: string) =>
    (args.get(name) ?? fallback).split(",").map((s) => s.trim());
  return {
    speeds: list("speeds", "40,400").map(Number),
    tokens: Number(args.get("tokens") ?? 400),
    reps: Number(args.get("reps") ?? 3),
    cases: list("cases", "one,ten,queued"),
    modes: list("modes", "project,loop"),
    cpuRounds: Number(args.get("cpu-rounds") ?? 3),
  };
}

interface CaseResult {
  mode: string;
  name: string;
  speed: number;
  answers: AnswerFigures[];
  questions: number;
  rateLimited: number;
  cpuMsPer1k: number;
}

let run = 0;

/** Asks `questions` (channel per question; in order), waits for every final text, measures. */
async function askAll(
  fakes: RemoteFakes,
  channels: string[],
  tokens: number,
  botId: string,
): Promise<{ figures: (AnswerFigures | undefined)[]; rateLimited: number; cpuMs: number }> {
  const asked: { id: string; key: string }[] = [];
  const cpu = process.cpuUsage();
  for (const channel of channels) {
    const key = `r${run++}`;
    asked.push({ id: await fakes.say(channel, `<@${botId}> q:${key}`), key });
  }
  await fakes.finished(
    asked.map((q) => q.id),
    CURSOR,
    600_000,
  );
  const used = process.cpuUsage(cpu);
  const trace = await fakes.trace();
  return {
    figures: asked.map((q) =>
      measureAnswer(q.id, answerTokens(q.key, tokens), trace.produced[q.key] ?? [], trace.calls),
    ),
    rateLimited: trace.calls.filter((c) => c.status === 429).length,
    cpuMs: (used.user + used.system) / 1000,
  };
}

async function runCase(
  fakes: RemoteFakes,
  mode: string,
  name: string,
  speed: number,
  o: Options,
): Promise<CaseResult> {
  const { channels, thread, botId } = fakes.ready;
  await fakes.pace({ tokens: o.tokens, tokensPerS: speed, ttftMs: TTFT_MS });
  const answers: AnswerFigures[] = [];
  let rateLimited = 0;
  let cpuMs = 0;
  let questions = 0;
  const rounds =
    name === "one"
      ? Array.from({ length: o.reps }, () => [channels[0] as string])
      : name === "ten"
        ? Array.from({ length: o.reps }, () => channels.slice(0, 10))
        : [Array.from({ length: 10 }, () => thread)];
  for (const round of rounds) {
    // Every window empty again, as for a bot that was quiet.
    await sleep(WINDOW_MS + 500);
    await fakes.pace({ tokens: o.tokens, tokensPerS: speed, ttftMs: TTFT_MS });
    const r = await askAll(fakes, round, o.tokens, botId);
    questions += round.length;
    answers.push(...r.figures.filter((f): f is AnswerFigures => f !== undefined));
    rateLimited += r.rateLimited;
    cpuMs += r.cpuMs;
  }
  return {
    mode,
    name,
    speed,
    answers,
    questions,
    rateLimited,
    cpuMsPer1k: (cpuMs / (questions * o.tokens)) * 1000,
  };
}

const CASE_NAMES: Record<string, string> = {
  one: "1 stream",
  ten: "10 streams, 10 channels",
  queued: "10 queued in one thread",
};

const f0 = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(0));
const pair = (xs: number[]) => `${f0(pct(xs, 50))} / ${f0(pct(xs, 99))}`;

/** The first answer's requests, and the gaps between requests of every answer. */
function traceSummary(answers: AnswerFigures[]): string {
  const first = answers[0]?.requestsAt ?? [];
  const gaps = answers.flatMap((a) => a.requestsAt.slice(1).map((t, i) => t - (a.requestsAt[i] as number)));
  const shown = first.slice(0, 6).map(f0).join(", ") + (first.length > 6 ? ", …" : "");
  return `${(answers.reduce((n, a) => n + a.requestsAt.length, 0) / Math.max(1, answers.length)).toFixed(1)} req; gap p50 ${f0(pct(gaps, 50))}, max ${f0(Math.max(...gaps))}; [${shown}]`;
}

function row(r: CaseResult): string {
  const a = r.answers;
  return [
    CASE_NAMES[r.name] ?? r.name,
    `${r.speed}/s`,
    r.mode,
    pair(a.map((x) => x.stalenessMs)),
    pair(a.map((x) => x.firstTextMs)),
    pair(a.map((x) => x.finalTextMs)),
    String(r.rateLimited),
    `${((a.filter((x) => x.exact).length / r.questions) * 100).toFixed(0)}%`,
    r.cpuMsPer1k.toFixed(0),
    traceSummary(a),
  ].join(" | ");
}

/** Starts a bot and warms it up (unmeasured: ten short answers), so neither is measured with cold code. */
async function startBot(mode: string, fakes: RemoteFakes, o: Options) {
  const bot =
    mode === "project" ? await startProjectBot(fakes.ready, MODEL) : await startNaiveBot(fakes.ready, MODEL);
  await runCase(fakes, mode, "ten", 400, { ...o, tokens: 40, reps: 1 });
  return bot;
}

/** CPU ms per 1,000 tokens of each bot, round after round, bots alternating. */
async function cpuRounds(fakes: RemoteFakes, o: Options): Promise<Record<string, number[]>> {
  const cpu: Record<string, number[]> = { project: [], loop: [] };
  for (let round = 0; round < o.cpuRounds; round++) {
    for (const mode of round % 2 === 0 ? ["project", "loop"] : ["loop", "project"]) {
      const bot = await startBot(mode, fakes, o);
      try {
        const r = await runCase(fakes, mode, "ten", 40, { ...o, reps: 1 });
        cpu[mode]?.push(r.cpuMsPer1k);
      } finally {
        await bot.stop();
      }
    }
  }
  return cpu;
}

export async function runFreshnessBench(o: Options = options()): Promise<void> {
  const started = performance.now();
  const fakes = await RemoteFakes.start();
  const results: CaseResult[] = [];
  let cpu: Record<string, number[]> = {};
  try {
    for (const mode of o.modes) {
      if (!o.cases.some((name) => name in CASE_NAMES)) continue;
      const bot = await startBot(mode, fakes, o);
      try {
        for (const speed of o.speeds)
          for (const name of o.cases)
            if (name in CASE_NAMES) results.push(await runCase(fakes, mode, name, speed, o));
      } finally {
        await bot.stop();
      }
    }
    if (o.cpuRounds > 0) cpu = await cpuRounds(fakes, o);
  } finally {
    await fakes.close();
  }
  console.log(
    `\n### Freshness on Discord, black-box: ${o.tokens} tokens per answer, first token after ${TTFT_MS} ms; the fake Discord (another process) allows 5 message creates and edits per 5 s per channel (sliding, 429 beyond) and takes 80-100 ms per request, applied half-way. project: this bot as main.ts composes it; loop: a 1 s edit loop over the same SDKs. Floor (round trip + half the 1 s interval the budget allows): about 590 ms.\n`,
  );
  const header = [
    "case",
    "model",
    "bot",
    "staleness p50 / p99 (ms)",
    "1st token → 1st text p50 / p99 (ms)",
    "last token → final p50 / p99 (ms)",
    "429s",
    "exact",
    "CPU ms / 1k tokens",
    "requests per answer; gaps (ms); first answer's requests (ms after its 1st token)",
  ];
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const r of results) console.log(`| ${row(r)} |`);
  if (o.cpuRounds > 0) {
    const project = pct(cpu.project ?? [], 50);
    const loop = pct(cpu.loop ?? [], 50);
    console.log(
      `\nCPU ms per 1,000 tokens, 10 streams in 10 channels at 40 tokens/s, ${o.cpuRounds} rounds each, bots alternating: ` +
        `project ${(cpu.project ?? []).map(f0).join(", ")} (median ${f0(project)}); loop ${(cpu.loop ?? []).map(f0).join(", ")} ` +
        `(median ${f0(loop)}); ratio ${(project / loop).toFixed(2)}`,
    );
  }
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
