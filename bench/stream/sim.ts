import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type EditableReply,
  type EditBudget,
  type MessageRef,
  PlatformRateLimitError,
} from "../../src/stream/index.js";

/** The simulated chat platform's behaviour. */
export interface PlatformOptions {
  /** Round trip of one post/edit (ms). The platform applies it half-way, when users see it. */
  latencyMs: number;
  /** Requests accepted per channel in any window of `perMs` (Discord: 5 per 5,000 ms). */
  edits: number;
  perMs: number;
  /** Longest message (Discord 2,000). */
  maxChars: number;
}

interface Channel {
  /** Times of accepted requests, oldest first (a sliding window, as the budget assumes). */
  accepted: number[];
}

/**
 * A chat platform in-process: every request takes `latencyMs`, is applied at
 * half of it, and is answered 429 (with Retry-After) when its channel already
 * accepted `edits` requests in the last `perMs`. Rejected requests do not count.
 */
export class SimPlatform {
  requests = 0;
  rateLimited = 0;
  tooLong = 0;
  private readonly channels = new Map<string, Channel>();

  constructor(readonly options: PlatformOptions) {}

  async request(channelId: string, text: string, apply: (at: number) => void): Promise<void> {
    this.requests++;
    const half = this.options.latencyMs / 2;
    await sleep(half);
    const now = performance.now();
    let channel = this.channels.get(channelId);
    if (!channel) {
      channel = { accepted: [] };
      this.channels.set(channelId, channel);
    }
    const { accepted } = channel;
    while (accepted.length > 0 && (accepted[0] as number) <= now - this.options.perMs) accepted.shift();
    if (accepted.length >= this.options.edits) {
      this.rateLimited++;
      const retryAfterMs = Math.ceil((accepted[0] as number) + this.options.perMs - now);
      await sleep(half);
      throw new PlatformRateLimitError(retryAfterMs);
    }
    if (text.length > this.options.maxChars) {
      this.tooLong++;
      await sleep(half);
      throw new Error(`400: message longer than ${this.options.maxChars}`);
    }
    accepted.push(now);
    apply(now);
    await sleep(half);
  }
}

/** Called with the reply after the platform applied one of its requests. */
export type OnApply = (reply: SimReply, at: number) => void;

/** One reply thread on the simulated platform: the EditableReply an adapter would build. */
export class SimReply implements EditableReply {
  readonly maxChars: number;
  /** Every message's current text, in post order. */
  readonly messages: string[] = [];
  posts = 0;
  edits = 0;

  constructor(
    private readonly platform: SimPlatform,
    private readonly channelId: string,
    readonly budget: EditBudget,
    private readonly onApply: OnApply,
  ) {
    this.maxChars = platform.options.maxChars;
  }

  async post(text: string): Promise<MessageRef> {
    let index = -1;
    await this.platform.request(this.channelId, text, (at) => {
      index = this.messages.push(text) - 1;
      this.posts++;
      this.onApply(this, at);
    });
    return { id: String(index) };
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    await this.platform.request(this.channelId, text, (at) => {
      this.messages[Number(ref.id)] = text;
      this.edits++;
      this.onApply(this, at);
    });
  }
}

/** A budget that never waits: what the naive baseline uses. */
export const noBudget: EditBudget = { acquire: () => Promise.resolve(), pause: () => {} };

/** The simulated model's pace. */
export interface ModelOptions {
  tokensPerS: number;
  /** Time to first token (ms). */
  ttftMs: number;
}

/**
 * A streaming model: yields `tokens` on a fixed schedule (first after ttftMs,
 * then one per 1/tokensPerS), calling `onToken` as each one is produced. A
 * late timer yields every token already due at once, as a network buffer would.
 */
export async function* simModel(
  tokens: string[],
  options: ModelOptions,
  onToken: (index: number, at: number) => void,
): AsyncGenerator<string> {
  const start = performance.now();
  const everyMs = 1000 / options.tokensPerS;
  for (let i = 0; i < tokens.length; i++) {
    const due = start + options.ttftMs + i * everyMs;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    onToken(i, performance.now());
    yield tokens[i] as string;
  }
}

const VOCABULARY = (
  "the a model answer streams into place while users read along and every message edit " +
  "counts against a shared budget so renderer batches tokens fairly between channels " +
  "latency matters more than throughput when people wait for words to appear"
).split(" ");

/** A plausible answer of `count` tokens: words, sentences, paragraphs and list items. Deterministic per seed. */
export function answerTokens(count: number, seed: number): string[] {
  let x = seed * 7919 + 17;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const tokens: string[] = [];
  let sentence = 0;
  for (let i = 0; i < count; i++) {
    const word = VOCABULARY[rand(VOCABULARY.length)] as string;
    if (i === 0) tokens.push(word[0]?.toUpperCase() + word.slice(1));
    else if (sentence > 6 + rand(14)) {
      sentence = 0;
      const breakKind = rand(8);
      const joint = breakKind === 0 ? ".\n\n" : breakKind === 1 ? ":\n- " : ". ";
      tokens.push(`${joint}${word[0]?.toUpperCase()}${word.slice(1)}`);
    } else tokens.push(` ${word}`);
    sentence++;
  }
  tokens.push(".");
  return tokens;
}
