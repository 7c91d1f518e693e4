/**
 * Just enough Markdown to keep split and half-written messages looking right:
 * fenced code blocks (CommonMark: up to 3 spaces, then 3+ backticks or tildes),
 * inline code and `**` bold.
 */

/** A code fence open at some point of a text. */
export interface OpenFence {
  /** The line that opened it, without its newline, e.g. "```ts". */
  readonly openLine: string;
  /** The character and length that close it, e.g. "```". */
  readonly closer: string;
}

const FENCE_LINE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/**
 * What a line does to the fence state: the fence it opens (when none is open),
 * "close" when it closes the open one, or undefined.
 */
export function fenceLine(line: string, open: OpenFence | undefined): OpenFence | "close" | undefined {
  const m = FENCE_LINE.exec(line);
  if (!m) return undefined;
  const run = m[1] as string;
  const rest = m[2] as string;
  if (open) {
    return run[0] === open.closer[0] && run.length >= open.closer.length && rest.trim() === ""
      ? "close"
      : undefined;
  }
  // A backtick fence's info string may not contain backticks (CommonMark 4.5).
  if (run[0] === "`" && rest.includes("`")) return undefined;
  return { openLine: line.trimEnd(), closer: run };
}

/** The fence open at the end of `text` (a whole message or a prefix of one). */
export function openFenceAt(text: string, start = 0, initial?: OpenFence): OpenFence | undefined {
  return scan(text, start, initial).fence;
}

/**
 * The fence open at the end of `text`, and where the last stretch of ordinary
 * text begins (after the last blank line or fence line): inline spans cannot
 * reach across those.
 */
function scan(
  text: string,
  start: number,
  initial: OpenFence | undefined,
): { fence?: OpenFence; tail: number } {
  let fence = initial;
  let tail = start;
  let lineStart = start;
  for (;;) {
    const nl = text.indexOf("\n", lineStart);
    const line = text.slice(lineStart, nl === -1 ? text.length : nl);
    // An unfinished last line can still turn out to open a fence; it counts as one.
    const change = fenceLine(line, fence);
    if (change === "close") fence = undefined;
    else if (change) fence = change;
    if (change || line.trim() === "") tail = nl === -1 ? text.length : nl + 1;
    if (nl === -1) return { fence, tail };
    lineStart = nl + 1;
  }
}

/** The text that closes `fence` after `body`, on a line of its own. */
export function fenceCloser(body: string, fence: OpenFence): string {
  return body.length === 0 || body.endsWith("\n") ? fence.closer : `\n${fence.closer}`;
}

/** The line that reopens `fence` at the start of a continuation message. */
export function fenceReopener(fence: OpenFence): string {
  return `${fence.openLine.trimStart()}\n`;
}

// A last line that may be the start of a fence: shown once it is complete, so the
// cursor does not land in a language name and no stray backticks flash.
const PARTIAL_FENCE = /(?:^|\n) {0,3}(?:`{1,2}|~{1,2}|`{3,}[^`\n]*|~{3,}[^\n]*)$/;

/**
 * How to show a half-written message: the part of `body` to show (without a
 * trailing half-typed fence line) and what to append after the cursor so open
 * Markdown (a code fence, inline code, `**`) does not break the rendering.
 */
export function displayParts(body: string): { shown: string; closers: string } {
  const partial = PARTIAL_FENCE.exec(body);
  const shown = partial ? body.slice(0, partial.index + (partial[0].startsWith("\n") ? 1 : 0)) : body;
  const { fence, tail } = scan(shown, 0, undefined);
  if (fence) return { shown, closers: `\n${fence.closer}` };
  return { shown, closers: inlineClosers(shown, tail) };
}

/** Closers for inline code and bold left open in `text` from `from` on (no fence open). */
function inlineClosers(text: string, from: number): string {
  let codeRun = 0;
  let bold = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 96 /* ` */) {
      let n = 1;
      while (text.charCodeAt(i + n) === 96) n++;
      if (codeRun === 0) codeRun = n;
      else if (codeRun === n) codeRun = 0;
      i += n - 1;
    } else if (codeRun === 0 && c === 42 /* * */ && text.charCodeAt(i + 1) === 42) {
      bold = !bold;
      i++;
    } else if (codeRun === 0 && c === 92 /* \ */) {
      i++;
    }
  }
  return (codeRun > 0 ? "`".repeat(codeRun) : "") + (bold ? "**" : "");
}
