import type { ChatError } from "../../src/errors.js";
import {
  type Clock,
  type EditableReply,
  type EditBudget,
  type EditPriority,
  type MessageRef,
  PlatformRateLimitError,
} from "../../src/stream/index.js";
import { SlackApiError } from "./api.js";

/** The native renderer's (stream.ts) options and result, and its small parts: timing, what may be sent, how calls failed. */

/** The budgets of Slack's three streaming methods, each mirroring its own rate-limit tier. */
export interface StreamBudgets {
  start: EditBudget;
  append: EditBudget;
  stop: EditBudget;
}

export interface NativeOptions {
  /** The stream's messages (StreamReply, maybe wrapped by crash recovery). */
  reply: EditableReply;
  budgets: StreamBudgets;
  /** Stops the answer; its reason says how (StoppedError, ShutdownError, ...). */
  signal?: AbortSignal;
  /** Default systemClock. */
  clock?: Clock;
  /** Least time between two appends of one stream (ms; default APPEND_EVERY_MS). */
  appendEveryMs?: number;
  /**
   * From this age (ms) a message's stream is stopped at the next line end and
   * the answer continued in a new one; at any point half as long again later
   * (at most a minute). Default STREAM_ROTATE_AFTER_MS.
   */
  rotateAfterMs?: number;
  /** Longest wait for chat.startStream's budget before the answer goes by edits instead (ms; default 1,000). */
  startWaitMs?: number;
  /** Called when the first stream has started (the adapter posts the Stop control under it). */
  onStarted?: () => void;
}

/** What happened; renderNatively never rejects because of the model or Slack. */
export interface NativeResult {
  /** The model's text as received. */
  text: string;
  /** Every stream message, in order. */
  messages: MessageRef[];
  appends: number;
  /** Rate-limit answers received and waited out. */
  rateLimited: number;
  /** The model failed or the answer was stopped. */
  error?: ChatError;
  /**
   * The native stream gave up (refused, its budget spent, ended early by
   * Slack): Slack shows the model's text up to `offset`, and the rest is for
   * the edit renderer (`tap.from(offset)`).
   */
  handOff?: { offset: number; reason: string };
}

/**
 * Slack ends a native stream a few minutes after it started, whatever is
 * appended (peers measured about 5 minutes, 306 s; Slack does not document
 * it): later calls answer `message_not_in_streaming_state`. From this age a
 * stream is stopped at the next line end and the answer continued in a new
 * message; ROTATE_GRACE_MS later, at any point (still well before Slack).
 * @see https://github.com/slackapi/python-slack-sdk/issues/1859
 */
export const STREAM_ROTATE_AFTER_MS = 200_000;
export const ROTATE_GRACE_MS = 60_000;

/**
 * The least time between two appends of one native stream (ms): tokens
 * arriving meanwhile go out together, so one stream cannot spend the
 * workspace's window (chat.appendStream, Tier 4) alone. Slack's own helper
 * buffers 256 characters before a call, about as long at common model speeds.
 * @see https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/classes/ChatStreamer
 */
export const APPEND_EVERY_MS = 1_000;

/**
 * How much of `text` can be sent now without a later token changing how it
 * is written: a trailing `@her…` or `<!chan…` may still become a group
 * mention (neutralised when complete), and a trailing high surrogate is half
 * a character.
 */
export function stableEnd(text: string): number {
  let end = text.length;
  const lt = text.lastIndexOf("<");
  if (lt >= 0 && /^<!?[\w^|@.-]*$/.test(text.slice(lt))) end = lt;
  const at = /@\w*$/.exec(text.slice(0, end));
  if (at) end = at.index;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return end;
}

/** Slack's error code, and the wait it asked for when rate limited, of a call SlackApi made. */
export function describeError(err: unknown): { slackCode: string; retryAfterMs?: number } {
  if (err instanceof PlatformRateLimitError)
    return { slackCode: "ratelimited", retryAfterMs: err.retryAfterMs };
  if (err instanceof SlackApiError) return { slackCode: err.slackCode };
  return { slackCode: err instanceof Error ? err.message : String(err) };
}

/** Waits up to `ms` for a grant; false when none came in time. */
export async function acquireWithin(
  budget: EditBudget,
  ms: number,
  priority: EditPriority,
  clock: Clock,
): Promise<boolean> {
  const abort = new AbortController();
  const timer = new AbortController();
  const granted = budget.acquire(abort.signal, priority).then(
    () => true,
    () => false,
  );
  const late = clock.sleep(ms, timer.signal).then(
    () => "late" as const,
    () => "late" as const,
  );
  const first = await Promise.race([granted, late]);
  timer.abort();
  if (first === "late") {
    abort.abort();
    return granted;
  }
  return first;
}
