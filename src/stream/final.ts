import type { ChatError } from "../errors.js";
import { fenceCloser, openFenceAt } from "./markdown.js";

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
