import { performance } from "node:perf_hooks";
import { STOP_ACTION } from "../adapters/slack/blocks.js";
import { APPEND_EVERY_MS } from "../adapters/slack/stream-parts.js";
import type { FakeRateLimit } from "../tests/fakes/slack.js";
import {
  appMentionEvent,
  assistantThreadEvent,
  messageEvent,
  pressButton,
} from "../tests/fakes/slackEvents.js";
import { type Harness, startHarness } from "../tests/slack/harness.js";
import { Answer, tokensOf } from "./slack-answer.js";

/**
 * The Slack adapter for real (Bolt, the native and edit renderers, the
 * budgets) against the fake Slack enforcing Slack's limits per method, and
 * the fake OpenAI model: many answers at once in one workspace, half in DM
 * threads of the assistant pane (native streaming), half in channel threads
 * (edits), measuring what each person sees.
 */
export interface SlackBenchOptions {
  /** Answers in DM threads, and in channel threads (BENCH_SLACK_DMS / _THREADS, default 10 each). */
  dms: number;
  threads: number;
  /** Tokens per answer (BENCH_SLACK_TOKENS, default 400) at BENCH_SLACK_TOKENS_PER_S (default 40). */
  tokens: number;
  tokensPerS: number;
  /** Time to the model's first token (BENCH_SLACK_TTFT_MS, default 500). */
  ttftMs: number;
  /** Stop presses measured, click to the model's connection closed (BENCH_SLACK_STOPS, default 5). */
  stops: number;
}

/**
 * Slack's limits as the fake enforces them (HTTP 429 beyond): Tier 2 about
 * 20 calls a minute, Tier 3 about 50, Tier 4 about 100; chat.postMessage
 * about one a second per channel with short bursts.
 * @see https://docs.slack.dev/apis/web-api/rate-limits
 */
const SLACK_LIMITS: Record<string, FakeRateLimit> = {
  "chat.update": { limit: 50, perMs: 60_000 },
  "chat.postMessage": { limit: 3, perMs: 3_000, per: "channel" },
  "chat.startStream": { limit: 20, perMs: 60_000 },
  "chat.appendStream": { limit: 100, perMs: 60_000 },
  "chat.stopStream": { limit: 20, perMs: 60_000 },
  "chat.delete": { limit: 50, perMs: 60_000 },
  "assistant.threads.setStatus": { limit: 60, perMs: 60_000, per: "channel" },
  "assistant.threads.setTitle": { limit: 100, perMs: 60_000 },
};

function options(env: NodeJS.ProcessEnv = process.env): SlackBenchOptions {
  const num = (name: string, fallback: number) => {
    const value = Number(env[`BENCH_SLACK_${name}`] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench: BENCH_SLACK_${name} must be a number`);
    return value;
  };
  return {
    dms: num("DMS", 10),
    threads: num("THREADS", 10),
    tokens: num("TOKENS", 400),
    tokensPerS: num("TOKENS_PER_S", 40),
    ttftMs: num("TTFT_MS", 500),
    stops: num("STOPS", 5),
  };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const pair = (xs: number[]) => `${pct(xs, 50).toFixed(0)} / ${pct(xs, 99).toFixed(0)}`;

export async function runSlackBench(o: SlackBenchOptions = options()): Promise<void> {
  const h = await startHarness({
    editsPerMinute: 50,
    rateLimits: SLACK_LIMITS,
    streamTiming: { appendEveryMs: APPEND_EVERY_MS },
  });
  try {
    await answersAtOnce(h, o);
    if (o.stops > 0) await stopLatency(h, o);
  } finally {
    await h.close();
  }
}

async function answersAtOnce(h: Harness, o: SlackBenchOptions): Promise<void> {
  const everyMs = 1000 / o.tokensPerS;
  const answers: Answer[] = [];
  for (let i = 0; i < o.dms + o.threads; i++) {
    const kind = i < o.dms ? "dm" : "thread";
    const user = `U0B${String(i).padStart(3, "0")}`;
    h.slack.addUser({ id: user, name: `person${i}`, display_name: `Person ${i}` });
    answers.push(new Answer(kind, user, tokensOf(o.tokens, i + 1)));
  }
  h.testBot.fake.respond((body) => {
    const question = String(body.messages.at(-1)?.content ?? "");
    const answer = answers[Number(/#(\d+)/.exec(question)?.[1] ?? -1)];
    if (!answer) return { text: "?" };
    return {
      chunks: answer.tokens,
      firstDelayMs: o.ttftMs,
      chunkDelayMs: everyMs,
      onDelta: (index, at) => {
        answer.produced = index + 1;
        answer.producedAt[index] = at;
      },
    };
  });

  // The DMs are chats of the assistant pane (threads); the rest, mentions in channels.
  for (const [i, a] of answers.entries()) {
    if (a.kind === "dm") {
      a.channel = `D0B${i}`;
      a.threadTs = h.slack.addMessage({
        channel: a.channel,
        user: a.user,
        text: "Chat",
        subtype: "assistant_app_thread",
      }).ts;
      await h.deliver(
        assistantThreadEvent(h.slack, { user: a.user, channel: a.channel, threadTs: a.threadTs }),
      );
    } else {
      a.channel = `C0B${i}`;
      a.threadTs = h.slack.nextTs();
    }
  }
  const lagMs = { dm: [] as number[], thread: [] as number[] };
  const lagChars = { dm: [] as number[], thread: [] as number[] };
  const sampler = setInterval(() => {
    const now = performance.now();
    for (const a of answers) {
      if (a.produced === 0 || a.finalAt !== undefined) continue;
      const visible = a.visibleChars(h);
      if (visible > 0) a.firstVisibleAt ??= now;
      const produced = a.cum[a.produced - 1] as number;
      lagChars[a.kind].push(Math.max(0, produced - visible));
      if (visible >= produced) lagMs[a.kind].push(0);
      else lagMs[a.kind].push(now - (a.producedAt[a.cum.findIndex((c) => c > visible)] as number));
      if (a.isFinal(h)) a.finalAt = now;
    }
  }, 100);
  const started = performance.now();
  await Promise.all(
    answers.map((a, i) =>
      a.kind === "dm"
        ? h.deliver(
            messageEvent({
              channel: a.channel,
              user: a.user,
              text: `question #${i}`,
              ts: h.slack.nextTs(),
              thread_ts: a.threadTs,
            }),
          )
        : h.deliver(
            appMentionEvent({
              channel: a.channel,
              user: a.user,
              text: `<@${h.slack.botUserId}> question #${i}`,
              ts: a.threadTs,
            }),
          ),
    ),
  );
  while (answers.some((a) => a.finalAt === undefined) && performance.now() - started < 180_000) {
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(sampler);

  const calls = (method: string, channels: Set<string>) =>
    h.slack.calls.filter((c) => c.method === method && channels.has(String(c.params.channel))).length;
  const rows = (["dm", "thread"] as const).map((kind) => {
    const group = answers.filter((a) => a.kind === kind);
    const channels = new Set(group.map((a) => a.channel));
    const methods =
      kind === "dm"
        ? ["chat.startStream", "chat.appendStream", "chat.stopStream", "chat.postMessage", "chat.delete"]
        : ["chat.postMessage", "chat.update"];
    const perAnswer = methods.map(
      (m) => `${m.replace("chat.", "")} ${(calls(m, channels) / group.length).toFixed(1)}`,
    );
    return {
      kind,
      lagP50: pct(lagMs[kind], 50),
      cells: [
        `${group.length} ${kind === "dm" ? "DM threads (assistant pane)" : "channel threads"}`,
        kind === "dm" ? "native stream" : "edits",
        pair(
          group.flatMap((a) => (a.firstVisibleAt ? [a.firstVisibleAt - (a.producedAt[0] as number)] : [])),
        ),
        pair(lagMs[kind]),
        pair(lagChars[kind]),
        pair(group.flatMap((a) => (a.finalAt ? [a.finalAt - (a.producedAt.at(-1) as number)] : []))),
        perAnswer.join(", "),
        `${((group.filter((a) => a.isFinal(h)).length / group.length) * 100).toFixed(0)}%`,
      ],
    };
  });
  console.log(
    `\n### Slack: ${o.dms + o.threads} answers at once in one workspace, ${o.tokens} tokens each at ${o.tokensPerS} tokens/s ` +
      `(first after ${o.ttftMs} ms); the fake Slack answers 429 beyond each method's limit\n`,
  );
  const header = [
    "answers",
    "shown by",
    "1st token → 1st text p50 / p99 (ms)",
    "visible lag p50 / p99 (ms)",
    "visible lag p50 / p99 (chars)",
    "last token → final p50 / p99 (ms)",
    "calls per answer",
    "exact",
  ];
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.cells.join(" | ")} |`);
  const [dm, thread] = rows;
  console.log(
    `\nRate-limit answers (429) from the fake Slack: ${h.slack.rateLimited}. ` +
      `Visible lag p50, channel threads / DM threads: ${((thread?.lagP50 ?? 0) / Math.max(1, dm?.lagP50 ?? 1)).toFixed(1)}×.`,
  );
}

/**
 * Click on Stop to the model's connection closed, for answers stalled
 * mid-way in DM threads (their Stop control; the DM threads draw on budgets
 * the channel answers above did not spend).
 */
async function stopLatency(h: Harness, o: SlackBenchOptions): Promise<void> {
  const latencies: number[] = [];
  const user = "U0BSTOP";
  h.slack.addUser({ id: user, name: "stopper" });
  for (let i = 0; i < o.stops; i++) {
    let closedAt: number | undefined;
    h.testBot.fake.respond(() => ({
      chunks: ["Half ", "of an ", "answer"],
      chunkDelayMs: 20,
      stallAfterChunks: 3,
      onClientClose: (at) => {
        closedAt = at;
      },
    }));
    const channel = `D0BSTOP${i}`;
    const thread = h.slack.addMessage({ channel, user, text: "a chat" }).ts;
    await h.deliver(messageEvent({ channel, user, text: "go", ts: h.slack.nextTs(), thread_ts: thread }));
    const control = () => h.slack.botMessagesIn(channel, thread).find((m) => !m.stream);
    const deadline = performance.now() + 10_000;
    while (!control() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const shown = control();
    if (!shown) continue;
    const clickedAt = performance.now();
    await h.press(pressButton(h.slack, shown, STOP_ACTION, { user }));
    while (closedAt === undefined && performance.now() - clickedAt < 10_000)
      await new Promise((r) => setTimeout(r, 2));
    if (closedAt !== undefined) latencies.push(closedAt - clickedAt);
  }
  console.log(
    `\nStop: click (signed block_actions to /slack/events) to the model's connection closed, ${o.stops} presses: ` +
      `p50 ${pct(latencies, 50).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms` +
      `${latencies.length < o.stops ? ` (${o.stops - latencies.length} never closed)` : ""}.`,
  );
}
