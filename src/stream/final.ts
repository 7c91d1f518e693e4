import type { ChatError } from "../errors.js";
import { systemClock } from "./clock.js";
import { fenceCloser, openFenceAt } from "./markdown.js";
import { graphemeBoundary, type Render } from "./split.js";
import { type Clock, type EditBudget, PlatformRateLimitError } from "./types.js";

/** Shown when a post or edit failed and the message was closed early. */
export const UNFINISHED_NOTE = "⚠️ This reply could not be finished.";

/** "⚠️ <the error's user sentence>", or "_Stopped._" for an abort. */
export function defaultWarning(err: ChatError): string {
  return err.code === "aborted" ? `_${err.userMessage}_` : `⚠️ ${err.userMessage}`;
}

/**
 * The whole text a finished stream shows (before splitting): the model's text,
 * or, after an error, that text with any open code fence closed and the warning
 * on its own paragraph.
 */
export function finalText(
  text: string,
  error: ChatError | undefined,
  warningFor: (err: ChatError) => string = defaultWarning,
  emptyText = "_(no answer)_",
): string {
  if (!error) return text.length > 0 ? text : emptyText;
  const warning = warningFor(error);
  if (text.length === 0) return warning;
  const fence = openFenceAt(text);
  return `${fence ? text + fenceCloser(text, fence) : text}\n\n${warning}`;
}

/** The final text with the turn's notices under it, each on its own line. */
export function withNotices(text: string, notices: readonly string[]): string {
  return notices.length === 0 ? text : `${text}\n\n${notices.join("\n")}`;
}

/**
 * A message ended before its text was: `body` (Markdown) with any open code
 * fence closed and UNFINISHED_NOTE (or `note`) after it, cut to fit `maxChars`
 * once rendered. Also what crash recovery leaves of a dead process's message.
 */
export function closeEarly(body: string, maxChars: number, render?: Render, note = UNFINISHED_NOTE): string {
  const tail = `\n\n${note}`;
  let room = maxChars - tail.length - 8;
  for (;;) {
    let kept = body;
    if (kept.length > room) kept = kept.slice(0, graphemeBoundary(kept, Math.max(0, room), 0, kept.length));
    const fence = openFenceAt(kept);
    if (fence) kept += fenceCloser(kept, fence);
    const markdown = kept.trim().length > 0 ? kept + tail : note;
    const text = render ? render(markdown) : markdown;
    if (text.length <= maxChars || room <= 0) return text;
    room = Math.min(room - 1, Math.floor((room * maxChars) / text.length) - 1);
  }
}

/**
 * Sends one final edit outside a renderer (crash recovery): drawn from
 * `budget` at final priority; a rate-limit answer pauses the budget, waits it
 * out, and tries again, up to `attempts` times.
 */
export async function sendFinal(
  budget: EditBudget,
  send: () => Promise<void>,
  options: { attempts?: number; clock?: Clock } = {},
): Promise<void> {
  const attempts = options.attempts ?? 3;
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    await budget.acquire(undefined, "final");
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof PlatformRateLimitError) || attempt >= attempts) throw err;
      budget.pause(err.retryAfterMs);
      await clock.sleep(err.retryAfterMs);
    }
  }
}
