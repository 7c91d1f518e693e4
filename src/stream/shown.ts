import { displayParts } from "./markdown.js";
import type { Render } from "./split.js";

/** How a message still being written is shown. */
export interface HalfWritten {
  /** The platform's text: what arrived, the cursor, open Markdown closed after it; rendered. */
  text: string;
  /** The same without the cursor, in Markdown: what the message should end as if the stream died now. */
  settled: string;
  /** Cut short to fit `maxChars`: the rest of the text needs another message. */
  heldBack: boolean;
}

/**
 * A half-written message of `body` (Markdown): open Markdown closed after the
 * cursor, held back to fit `maxChars` once rendered. With `status` (a tool
 * running), the open Markdown is closed, then the status line and the cursor follow.
 */
export function halfWritten(
  body: string,
  cursor: string,
  maxChars: number,
  render?: Render,
  status?: string,
): HalfWritten {
  let keep = body.length;
  for (let heldBack = false; ; heldBack = true) {
    let shown = body.slice(0, keep);
    const last = shown.charCodeAt(shown.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) shown = shown.slice(0, -1);
    const parts = displayParts(shown);
    const markdown = status
      ? `${settle(parts).trimEnd()}\n\n${status}${cursor}`
      : parts.shown + cursor + parts.closers;
    const text = markdown.length <= maxChars && render ? render(markdown) : markdown;
    if (text.length <= maxChars || keep === 0) return { text, settled: settle(parts), heldBack };
    let next = Math.min(
      keep - 1,
      maxChars - cursor.length - parts.closers.length - (status?.length ?? 0) - 4,
    );
    // Rendering may make it longer than its Markdown: shrink in proportion.
    if (render) next = Math.min(next, Math.floor((keep * maxChars) / text.length) - 1);
    keep = Math.max(0, next);
  }
}

/** A half-written message without its cursor: what it shows, open Markdown closed. */
function settle(parts: { shown: string; closers: string }): string {
  // A fence closer starts on a new line after the cursor; without the cursor, the line it had is not needed.
  const closers =
    parts.shown.endsWith("\n") && parts.closers.startsWith("\n") ? parts.closers.slice(1) : parts.closers;
  return parts.shown + closers;
}

/** `render` with its last few answers kept: the renderer often renders the same text twice in a row. */
export function memoized(render: Render): Render {
  const recent = new Map<string, string>();
  return (markdown) => {
    const known = recent.get(markdown);
    if (known !== undefined) return known;
    const text = render(markdown);
    if (recent.size >= 4) recent.delete(recent.keys().next().value as string);
    recent.set(markdown, text);
    return text;
  };
}
