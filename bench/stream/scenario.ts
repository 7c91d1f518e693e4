import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { EditBudgets, renderByEditing, splitMessage } from "../../src/stream/index.js";
import { naiveRender } from "./naive.js";
import {
  answerTokens,
  type ModelOptions,
  noBudget,
  type PlatformOptions,
  SimPlatform,
  SimReply,
  simModel,
} from "./sim.js";

export type Mode = "renderByEditing" | "naive" | "models only";

/** One run: `streams` replies at once, spread over `channels` (each with its own limit). */
export interface ScenarioOptions extends PlatformOptions, ModelOptions {
  mode: Mode;
  streams: number;
  channels: number;
  /** Tokens of an ordinary answer; every tenth answer is three times longer (so some are split). */
  tokens: number;
  /** Streams start at random times within this window (ms). */
  startSpreadMs: number;
}

/** What one run measured. Times in ms. */
export interface ScenarioResult {
  options: ScenarioOptions;
  channels: number;
  /** Per stream: model's first token -> first visible model text. */
  firstText: number[];
  /** Per stream: model's last token -> final text visible. */
  finalText: number[];
  /** Samples every 100 ms while a stream runs: produced minus visible characters. */
  lagChars: number[];
  /** Same samples: age of the oldest produced character not yet visible. */
  lagMs: number[];
  editsPerReply: number;
  postsPerReply: number;
  rateLimited: number;
  /** Share of replies whose final messages are exactly right (0..1). */
  exact: number;
  tokens: number;
  cpuMsPer1kTokens: number;
  loopDelayP99Ms: number;
  wallS: number;
}

/** One stream's model text and what of it the platform shows. */
class Tracker {
  readonly text: string;
  readonly cumChars: Int32Array;
  readonly tokenAt: Float64Array;
  produced = 0;
  visible = 0;
  firstVisibleAt: number | undefined;
  lastApplyAt = 0;
  done = false;
  /** Model offset where the newest message starts, and that message's index. */
  private base = 0;
  private baseIndex = 0;

  constructor(readonly tokens: string[]) {
    this.text = tokens.join("");
    this.cumChars = new Int32Array(tokens.length);
    this.tokenAt = new Float64Array(tokens.length);
    let sum = 0;
    tokens.forEach((t, i) => {
      sum += t.length;
      this.cumChars[i] = sum;
    });
  }

  onApply(messages: string[], at: number): void {
    // Messages before the newest are finished: their share of the text is fixed.
    while (this.baseIndex < messages.length - 1) {
      this.base += matched(messages[this.baseIndex] as string, this.text, this.base);
      this.baseIndex++;
    }
    this.visible = this.base + matched(messages[this.baseIndex] as string, this.text, this.base);
    if (this.visible > 0) this.firstVisibleAt ??= at;
    this.lastApplyAt = at;
  }

  sample(now: number, lagChars: number[], lagMs: number[]): void {
    if (this.produced === 0 || this.done) return;
    const producedChars = this.cumChars[this.produced - 1] as number;
    lagChars.push(Math.max(0, producedChars - this.visible));
    if (this.visible >= producedChars) {
      lagMs.push(0);
      return;
    }
    // The first token holding an invisible character: binary search on cumulative lengths.
    let lo = 0;
    let hi = this.produced - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumChars[mid] as number) > this.visible) hi = mid;
      else lo = mid + 1;
    }
    lagMs.push(now - (this.tokenAt[lo] as number));
  }
}

/** How many characters of `text` from `offset` the message shows (skipping a reopened fence line). */
function matched(message: string, text: string, offset: number): number {
  let q = 0;
  if (offset > 0 && (message.startsWith("```") || message.startsWith("~~~"))) {
    const nl = message.indexOf("\n");
    if (nl > 0 && !text.startsWith(message.slice(0, nl + 1), offset)) q = nl + 1;
  }
  let k = 0;
  while (
    q + k < message.length &&
    offset + k < text.length &&
    message.charCodeAt(q + k) === text.charCodeAt(offset + k)
  ) {
    k++;
  }
  return k;
}

function random(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const channels = Math.max(1, Math.min(options.streams, options.channels));
  const platform = new SimPlatform(options);
  const budgets = new EditBudgets({ edits: options.edits, perMs: options.perMs });
  const rand = random(options.streams * 31 + options.mode.length);
  const trackers: Tracker[] = [];
  const replies: SimReply[] = [];
  const byReply = new Map<SimReply, Tracker>();
  const onApply = (reply: SimReply, at: number) => byReply.get(reply)?.onApply(reply.messages, at);
  const lagChars: number[] = [];
  const lagMs: number[] = [];

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const sampler = setInterval(() => {
    const now = performance.now();
    for (const t of trackers) t.sample(now, lagChars, lagMs);
  }, 100);

  const runs = Array.from({ length: options.streams }, async (_, i) => {
    const long = i % 10 === 9;
    const tracker = new Tracker(answerTokens(options.tokens * (long ? 3 : 1), i + 1));
    trackers[i] = tracker;
    await sleep(rand(options.startSpreadMs + 1));
    // Consecutive streams share a channel, so each channel gets its share of long answers.
    const channel = `channel-${Math.floor((i * channels) / options.streams)}`;
    const budget = options.mode === "renderByEditing" ? budgets.get(channel) : noBudget;
    const reply = new SimReply(platform, channel, budget, onApply);
    replies[i] = reply;
    byReply.set(reply, tracker);
    const deltas = simModel(tracker.tokens, options, (index, at) => {
      tracker.produced = index + 1;
      tracker.tokenAt[index] = at;
    });
    if (options.mode === "renderByEditing") await renderByEditing(deltas, reply);
    else if (options.mode === "naive") await naiveRender(deltas, reply);
    else for await (const _delta of deltas) tracker.lastApplyAt = performance.now();
    tracker.done = true;
  });
  await Promise.all(runs);

  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuStart);
  const wallS = (performance.now() - wallStart) / 1000;
  loopDelay.disable();

  const tokens = trackers.reduce((n, t) => n + t.tokens.length, 0);
  const exactCount = trackers.filter((t, i) => {
    const shown = replies[i]?.messages ?? [];
    if (shown.some((m) => m.includes("▌"))) return false;
    if (options.mode === "renderByEditing")
      return JSON.stringify(shown) === JSON.stringify(splitMessage(t.text, options.maxChars));
    return shown.join("") === t.text;
  }).length;
  const withText = trackers.filter((t) => t.firstVisibleAt !== undefined);
  return {
    options,
    channels,
    firstText: withText.map((t) => (t.firstVisibleAt as number) - (t.tokenAt[0] as number)),
    finalText: withText.map((t) => t.lastApplyAt - (t.tokenAt[t.tokens.length - 1] as number)),
    lagChars,
    lagMs,
    editsPerReply: replies.reduce((n, r) => n + r.edits, 0) / options.streams,
    postsPerReply: replies.reduce((n, r) => n + r.posts, 0) / options.streams,
    rateLimited: platform.rateLimited,
    exact: exactCount / options.streams,
    tokens,
    cpuMsPer1kTokens: ((cpu.user + cpu.system) / 1000 / tokens) * 1000,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    wallS,
  };
}
