import type { ChatError } from "../../src/errors.js";
import {
  type Clock,
  type EditableReply,
  type EditBudget,
  type MessageRef,
  PlatformRateLimitError,
  type Render,
  type Update,
} from "../../src/stream/index.js";

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

/**
 * Fake time: sleep() registers a timer and `run(promise)` fires timers in time
 * order, letting every promise chain settle in between, until `promise` settles.
 */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        fire: resolve,
        cancelled: false,
      };
      const onAbort = () => {
        timer.cancelled = true;
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      timer.fire = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      // Keep timers sorted by (at, seq): binary search for the insertion point.
      let lo = 0;
      let hi = this.timers.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const t = this.timers[mid] as Timer;
        if (t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) lo = mid + 1;
        else hi = mid;
      }
      this.timers.splice(lo, 0, timer);
    });
  }

  /** Advances fake time, timer by timer, until `promise` settles; fails on a deadlock. */
  async run<T>(promise: Promise<T>, maxMs = 24 * 3_600_000): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    const until = this.time + maxMs;
    for (;;) {
      await settle();
      if (settled) return promise;
      const timer = this.timers.shift();
      if (!timer) throw new Error(`deadlock at t=${this.time}: the promise waits and no timer is set`);
      if (timer.cancelled) continue;
      if (timer.at > until) throw new Error(`still running after ${maxMs} ms of fake time`);
      this.time = Math.max(this.time, timer.at);
      timer.fire();
    }
  }
}

/** Lets every pending promise chain (and immediate) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** One request the fake platform received. */
export interface Sent {
  /** Fake time it was sent. */
  at: number;
  /** Fake time its answer came back. */
  doneAt: number;
  kind: "post" | "edit";
  id: string;
  text: string;
  outcome: "ok" | "429" | "error";
  /** What the renderer said of it (Update). */
  update: Update;
}

/** How the fake platform answers the request number `n` (0-based): ok, 429 for `retryAfterMs`, or throws. */
export type Answer = (request: {
  n: number;
  kind: "post" | "edit";
  text: string;
  at: number;
}) => "ok" | { retryAfterMs: number } | Error;

/**
 * A platform message thread as the renderer sees it: records every post and
 * edit with its (fake) time, answers after `latencyMs`, and can answer 429 or
 * fail as `answer` says.
 */
export class FakeReply implements EditableReply {
  readonly maxChars: number;
  readonly budget: EditBudget;
  readonly render?: Render;
  readonly log: Sent[] = [];
  /** Current text of every posted message, in post order. */
  readonly messages: { id: string; text: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly clock: Clock;
  private readonly latencyMs: number;
  private readonly answer: Answer;
  private readonly idPrefix: string;

  constructor(options: {
    clock: Clock;
    budget: EditBudget;
    maxChars?: number;
    latencyMs?: number;
    answer?: Answer;
    idPrefix?: string;
    /** The platform's text format (default: Markdown as it is). */
    render?: Render;
  }) {
    if (options.render) this.render = options.render;
    this.clock = options.clock;
    this.budget = options.budget;
    this.maxChars = options.maxChars ?? 2_000;
    this.latencyMs = options.latencyMs ?? 100;
    this.answer = options.answer ?? (() => "ok");
    this.idPrefix = options.idPrefix ?? "m";
  }

  /** What the user sees now: each message's text. */
  get texts(): string[] {
    return this.messages.map((m) => m.text);
  }

  /** Every text a message showed before its last one. */
  intermediateTexts(): string[] {
    const out: string[] = [];
    for (const { id } of this.messages) {
      const shown = this.log.filter((s) => s.id === id && s.outcome === "ok").map((s) => s.text);
      out.push(...shown.slice(0, -1));
    }
    return out;
  }

  post(text: string, update: Update = { final: true }): Promise<MessageRef> {
    return this.request("post", `${this.idPrefix}${this.messages.length + 1}`, text, update).then((id) => ({
      id,
    }));
  }

  async edit(ref: MessageRef, text: string, update: Update = { final: true }): Promise<void> {
    await this.request("edit", ref.id, text, update);
  }

  private async request(kind: "post" | "edit", id: string, text: string, update: Update): Promise<string> {
    const at = this.clock.now();
    const n = this.log.length;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const entry: Sent = { at, doneAt: at, kind, id, text, outcome: "ok", update };
    this.log.push(entry);
    try {
      await this.clock.sleep(this.latencyMs);
      entry.doneAt = this.clock.now();
      if (text.length > this.maxChars) {
        entry.outcome = "error";
        throw new Error(`message too long: ${text.length} > ${this.maxChars}`);
      }
      const answer = this.answer({ n, kind, text, at });
      if (answer instanceof Error) {
        entry.outcome = "error";
        throw answer;
      }
      if (answer !== "ok") {
        entry.outcome = "429";
        throw new PlatformRateLimitError(answer.retryAfterMs);
      }
      if (kind === "post") this.messages.push({ id, text });
      else {
        const message = this.messages.find((m) => m.id === id);
        if (!message) throw new Error(`edit of unknown message ${id}`);
        message.text = text;
      }
      return id;
    } finally {
      this.inFlight--;
    }
  }
}

/** A budget without limits, for tests about something else. */
export const unlimited: EditBudget = { acquire: () => Promise.resolve(), pause: () => {} };

/** The largest number of requests in any window of `windowMs` (a request counts when sent). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** A model answering `deltas`: the first after `firstMs`, then one every `everyMs`; optionally failing. */
export async function* fakeModel(
  clock: Clock,
  deltas: string[],
  options: { firstMs?: number; everyMs?: number; failAfter?: number; error?: ChatError } = {},
): AsyncGenerator<string> {
  const { firstMs = 300, everyMs = 50 } = options;
  for (let i = 0; i < deltas.length; i++) {
    if (options.error && i === options.failAfter) throw options.error;
    await clock.sleep(i === 0 ? firstMs : everyMs);
    yield deltas[i] as string;
  }
  if (options.error && options.failAfter === deltas.length) throw options.error;
}

/** Words of `text` as deltas ("Hello", " world", ...). */
export function words(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Deterministic prose: paragraphs of sentences, from a seed. */
export function prose(chars: number, seed = 1): string {
  const vocabulary =
    "the a bot reply grows in place smoothly as fast platform allows and ends exactly right stream edit token budget message channel user sees".split(
      " ",
    );
  let x = seed;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  let out = "";
  while (out.length < chars) {
    const sentenceWords = 4 + rand(12);
    const sentence: string[] = [];
    for (let i = 0; i < sentenceWords; i++) sentence.push(vocabulary[rand(vocabulary.length)] as string);
    const s = sentence.join(" ");
    out += `${s[0]?.toUpperCase()}${s.slice(1)}.`;
    out += rand(6) === 0 ? "\n\n" : " ";
  }
  return out.slice(0, chars);
}
