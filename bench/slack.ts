import { performance } from "node:perf_hooks";
import { SLACK_SECTION_LIMIT, STOP_ACTION } from "../adapters/slack/blocks.js";
import { toMrkdwn } from "../adapters/slack/format.js";
import { APPEND_EVERY_MS } from "../adapters/slack/stream-parts.js";
import { splitMessage } from "../src/stream/index.js";
import type { FakeRateLimit, FakeSlackMessage } from "../tests/fakes/slack.js";
import {
  appMentionEvent,
  assistantThreadEvent,
  messageEvent,
  pressButton,
} from "../tests/fakes/slackEvents.js";
import { type Harness, startHarness } from "../tests/slack/harness.js";

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

/** One answer: the model's tokens with the time each was written, and what its asker sees. */
class Answer {
  readonly text: string;
  readonly cum: number[] = [];
  readonly producedAt: number[] = [];
  produced = 0;
  firstVisibleAt: number | undefined;
  finalAt: number | undefined;
  channel = "";
  threadTs = "";

  constructor(
    readonly kind: "dm" | "thread",
    readonly user: string,
    readonly tokens: string[],
  ) {
    this.text = tokens.join("");
    let sum = 0;
    for (const t of tokens) {
      sum += t.length;
      this.cum.push(sum);
    }
  }

  /** The messages its asker sees in its thread, oldest first (the Stop control has no text). */
  visible(h: Harness): string[] {
    return h.slack
      .botMessagesIn(this.channel, this.threadTs)
      .map((m: FakeSlackMessage) => (m.stream ? h.slack.seenBy(m, this.user) : m.text))
      .filter((t) => t.length > 0);
  }

  /** Characters of the model's text the asker sees, in order across messages. */
  visibleChars(h: Harness): number {
    let offset = 0;
    for (const message of this.visible(h)) offset += matched(message, this.text, offset);
    return offset;
  }

  private expectedTexts: string[] | undefined;

  /** What its messages must read at the end (computed once: converting to mrkdwn is not free). */
  expected(): string[] {
    this.expectedTexts ??=
      this.kind === "dm" ? [this.text] : splitMessage(this.text, SLACK_SECTION_LIMIT, toMrkdwn).map(toMrkdwn);
    return this.expectedTexts;
  }

  isFinal(h: Harness): boolean {
    if (this.produced < this.tokens.length) return false;
    const open = h.slack
      .botMessagesIn(this.channel, this.threadTs)
      .some((m) => m.stream && h.slack.streaming(m));
    return !open && JSON.stringify(this.visible(h)) === JSON.stringify(this.expected());
  }
}

/** How many characters of `text` from `offset` a message shows (the cursor and the rest stop the match). */
function matched(message: string, text: string, offset: number): number {
  let k = 0;
  while (
    k < message.length &&
    offset + k < text.length &&
    message.charCodeAt(k) === text.charCodeAt(offset + k)
  )
    k++;
  return k;
}

/** Plain words, sentences and paragraphs: their Markdown and Slack's mrkdwn read the same. */
function tokensOf(count: number, seed: number): string[] {
  const words =
    "the answer streams into place while people read along and every call counts against a budget".split(" ");
  let x = seed * 7919 + 17;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = words[rand(words.length)] as string;
    if (i === 0) out.push(word[0]?.toUpperCase() + word.slice(1));
    else if (rand(14) === 0)
      out.push(`.${rand(3) === 0 ? "\n\n" : " "}${word[0]?.toUpperCase()}${word.slice(1)}`);
    else out.push(` ${word}`);
  }
  out.push(".");
  return out;
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
