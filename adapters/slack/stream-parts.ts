import {
  type Clock,
  type EditBudget,
  type EditPriority,
  PlatformRateLimitError,
} from "../../src/stream/index.js";
import { SlackApiError } from "./api.js";

/** The native renderer's (stream.ts) small parts: its timing, what may be sent, how calls failed. */

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
