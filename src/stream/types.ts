import type { ChatError, OtherErrorCode } from "../errors.js";

/** A message the platform gave back after a post; opaque to the renderer. */
export interface MessageRef {
  id: string;
}

/**
 * How urgent a request is when several streams wait on one budget:
 * "final" ends a stream (removes its cursor), "first" is a reply's first post
 * (the user sees the bot started), "normal" is an intermediate edit.
 */
export type EditPriority = "final" | "first" | "normal";

/**
 * A token bucket of edits shared by every stream in one platform scope
 * (a Discord channel, a Slack workspace). See src/stream/budget.ts.
 */
export interface EditBudget {
  /**
   * Resolves when one request may be sent; rejects with the signal's reason if aborted.
   * `priority` (default "normal") orders waiters when the budget is short; a budget
   * may ignore it.
   */
  acquire(signal?: AbortSignal, priority?: EditPriority): Promise<void>;
  /** The platform answered 429: send nothing on this budget for `ms`. */
  pause(ms: number): void;
}

/**
 * What a turn streams: text deltas (strings; joined, the whole answer), and
 * notices: a line about the answer shown under it once it is finished (a
 * usage warning, "this model cannot see images"), never part of the answer,
 * never stored or sent to the model. Consumers skip items they do not know.
 */
export type StreamItem = string | Notice | ToolStatus | Answered;

/**
 * A tool call began or ended. While one runs, the renderer shows a status
 * line ("🔧 get-sum…") after the text so far, never in the final text; the
 * web streams it as `event: tool`.
 */
export interface ToolStatus {
  type: "tool";
  /** The tool's name as the user reads it. */
  name: string;
  status: "started" | "done" | "error";
  /** Tells apart parallel calls of one tool. */
  callId: string;
}

/** A line shown under a finished answer (Markdown). */
export interface Notice {
  type: "notice";
  text: string;
}

/**
 * The model is done: the answer's text is complete (notices may still
 * follow before the stream ends). A renderer sends no more intermediate
 * edits then, so the final edit finds its request free.
 */
export interface Answered {
  type: "answered";
}

/** Hands out the budget of a scope (a Discord channel, a Slack workspace); see EditBudgets. */
export interface EditBudgetSource {
  get(scopeKey: string): EditBudget;
}

/**
 * What the renderer tells a reply about each text it sends. `final`: the
 * message will not change again (the last request of the reply, or a message
 * closed at a split); `last`: it is the answer's last message, where controls
 * of a finished answer belong (Regenerate, feedback); `error` (on the last
 * message only): the answer ended early, with this ChatError code ("aborted"
 * for a stop or a shutdown) or "platform" when the platform refused the rest;
 * absent when the model finished, so feedback can be asked of whole answers
 * only. Otherwise (still being written: a Stop button belongs there) `settled`
 * is the Markdown the message should end as if the stream died now: what it
 * shows, without the cursor. Crash recovery keeps it; nothing needs to look
 * for a cursor in a text.
 */
export type Update = { final: true; last?: boolean; error?: string } | { final: false; settled: string };

/**
 * What a platform gives the renderer: post a message, edit it, its size limit,
 * how its text is written, and the edit budget it draws on. A rate-limited
 * request throws PlatformRateLimitError.
 */
export interface EditableReply {
  /**
   * The longest text one message may hold, in UTF-16 code units of the
   * platform's text (what `render` returns): Discord 2,000; Slack 4,000.
   */
  readonly maxChars: number;
  /**
   * The model's Markdown as the platform's text (Slack: mrkdwn). The renderer
   * splits on the rendered length and sends what this returns, so every
   * message fits exactly. Default: the Markdown as it is.
   */
  render?(markdown: string): string;
  /** The budget every edit (and, without `postBudget`, every post) draws on. */
  readonly budget: EditBudget;
  /**
   * The budget new messages draw on, where the platform limits posting apart
   * from editing (Slack: chat.postMessage per channel, chat.update per
   * workspace). Default: `budget`.
   */
  readonly postBudget?: EditBudget;
  /** Posts a new message with `text` (already rendered). */
  post(text: string, update: Update): Promise<MessageRef>;
  /** Replaces a message's text with `text` (already rendered). */
  edit(ref: MessageRef, text: string, update: Update): Promise<void>;
}

/** Thrown by EditableReply.post/edit when the platform answered "rate limited". */
export class PlatformRateLimitError extends Error {
  readonly code: OtherErrorCode = "platform_rate_limited";
  /** How long the platform asked us to wait (ms). */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `rate limited for ${retryAfterMs} ms`) {
    super(message);
    this.name = "PlatformRateLimitError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Time for the renderer and budgets; tests inject a fake one. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (or rejects with the signal's reason when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** How renderByEditing shows a stream. Every field is optional. */
export interface RenderOptions {
  /** Ends every intermediate text; never in a final one. Default "▌". */
  cursor?: string;
  /** Posted before the first token so the user sees the bot started. Default: the cursor alone; null: none. */
  placeholder?: string | null;
  /** Default: systemClock. */
  clock?: Clock;
  /** Stops reading the model; the message ends with what arrived plus the abort note ("Stopped."). */
  signal?: AbortSignal;
  /** The line shown under the text when the model fails or the stream is stopped. Default: defaultWarning. */
  warningFor?: (err: ChatError) => string;
  /** Shown when the model ends without any text (a message cannot be empty). Default "_(no answer)_". */
  emptyText?: string;
  /**
   * Nothing is sent before this settles (the model is read meanwhile): the
   * previous answer of the same conversation, whose final edit goes first.
   */
  after?: Promise<unknown>;
  /**
   * Once the model said it is done (an Answered item), how long the renderer
   * waits for the stream's end (the answer being stored, the notices) before
   * it sends intermediate edits again (ms). Default 1,000.
   */
  answeredWaitMs?: number;
  /** Called once, when the model's first text arrives or the stream ends (Discord stops "typing…"). */
  onStarted?: () => void;
}

/** What happened; renderByEditing resolves with it and never rejects because of the model. */
export interface RenderResult {
  /** The model's text as received (without cursor or warning). */
  text: string;
  /** Every message posted for this reply, in order. */
  messages: MessageRef[];
  /** Edits that succeeded. */
  edits: number;
  /** Rate-limit answers (PlatformRateLimitError) received and waited out. */
  rateLimited: number;
  /** The model failed or the stream was aborted (AbortedError). */
  error?: ChatError;
  /** A non-rate-limit failure of post/edit that stopped rendering. */
  platformError?: unknown;
  /** That failure was a post: part of the answer never appeared (a failed edit is closed with a note). */
  postFailed?: boolean;
}
