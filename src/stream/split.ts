import { fenceCloser, fenceLine, fenceReopener, type OpenFence } from "./markdown.js";

/**
 * Characters past a message's room that a cut may look at (to see a whole emoji
 * or a sentence end). The streaming renderer waits for that many before cutting,
 * so it cuts exactly where splitMessage cuts the finished text.
 */
export const SPLIT_LOOKAHEAD = 32;

/** Where one message ends and how the next one starts. */
export interface Cut {
  /** Index in the text where this part ends (exclusive) and the next begins. */
  end: number;
  /** Appended to this part: closes a code fence open at the cut, else "". */
  suffix: string;
  /** Starts the next part: reopens that fence with the same language, else "". */
  nextPrefix: string;
  /** The fence open at the cut (open again in the next part after nextPrefix). */
  fence: OpenFence | undefined;
}

/** One message of a split text: `prefix + text.slice(start, end) + suffix`. */
export interface Part {
  start: number;
  end: number;
  prefix: string;
  suffix: string;
}

// Preference, best first: a blank line, a line end, a sentence end, a space.
const PARAGRAPH = 0;
const LINE = 1;
const SENTENCE = 2;
const WORD = 3;

let graphemes: Intl.Segmenter | undefined;

/**
 * Markdown as the platform writes it (Slack: mrkdwn, where `&` is `&amp;`).
 * Parts are measured by the length of what it returns; absent, by their own.
 */
export type Render = (markdown: string) => string;

/**
 * Splits `text` into messages whose rendering holds at most `maxChars` UTF-16
 * code units (and whose Markdown does too). It cuts at a paragraph, line,
 * sentence or word boundary in the second half of the room, else between two
 * graphemes (never inside an emoji or surrogate pair). A code fence open at a
 * cut is closed in the first part and reopened, with the same language, in the
 * next. Returns the parts' Markdown. Pure.
 */
export function splitMessage(text: string, maxChars: number, render?: Render): string[] {
  return planSplit(text, maxChars, render).map((p) => p.prefix + text.slice(p.start, p.end) + p.suffix);
}

/** splitMessage as positions: the parts' `text.slice(start, end)` joined give back `text`. */
export function planSplit(text: string, maxChars: number, render?: Render): Part[] {
  const parts: Part[] = [];
  let start = 0;
  let prefix = "";
  let fence: OpenFence | undefined;
  while (!restFits(text, start, prefix, maxChars, render)) {
    const cut = cutAt(text, start, prefix, fence, maxChars, render, true) as Cut;
    parts.push({ start, end: cut.end, prefix, suffix: cut.suffix });
    start = cut.end;
    prefix = cut.nextPrefix;
    fence = cut.fence;
  }
  parts.push({ start, end: text.length, prefix, suffix: "" });
  return parts;
}

/** Whether the rest of `text` from `start`, after `prefix`, fits in one message. */
export function restFits(
  text: string,
  start: number,
  prefix: string,
  maxChars: number,
  render: Render | undefined,
): boolean {
  const body = prefix + text.slice(start);
  return body.length <= maxChars && (!render || render(body).length <= maxChars);
}

/**
 * The cut of the message that starts at `start` when the rest does not fit:
 * findCut in the Markdown room whose rendering fits. With `complete` false
 * (the text is still growing) it is undefined until enough text arrived for
 * the cut to be the one the finished text gets. `room`: markdownRoom's answer
 * when the caller has it already.
 */
export function cutAt(
  text: string,
  start: number,
  prefix: string,
  fence: OpenFence | undefined,
  maxChars: number,
  render: Render | undefined,
  complete: boolean,
  room = markdownRoom(text, start, prefix, maxChars, render, complete),
): Cut | undefined {
  if (room === undefined) return undefined;
  for (;;) {
    // findCut reads up to room + SPLIT_LOOKAHEAD: only then is the cut final.
    if (!complete && text.length - start < room + SPLIT_LOOKAHEAD) return undefined;
    const cut = findCut(text, start, prefix, fence, prefix.length + room);
    if (!render || room <= 1) return cut;
    const length = render(prefix + text.slice(start, cut.end) + cut.suffix).length;
    if (length <= maxChars) return cut;
    // Rendering is not exactly additive (a closed fence, an escaped character): shrink and retry.
    room = Math.max(1, Math.min(room - 1, Math.floor((room * maxChars) / length)));
  }
}

/**
 * The Markdown characters the message starting at `start` may take:
 * `maxChars - prefix.length`, or less where rendering makes text longer.
 * Once known for a growing text it stays the same (see renderedRoom), so a
 * caller may keep it. Undefined while it cannot be known yet.
 */
export function markdownRoom(
  text: string,
  start: number,
  prefix: string,
  maxChars: number,
  render: Render | undefined,
  complete: boolean,
): number | undefined {
  return render ? renderedRoom(text, start, prefix, maxChars, render, complete) : maxChars - prefix.length;
}

/**
 * The longest Markdown stretch from `start` whose rendering, after `prefix`,
 * fits in `maxChars`, at most `maxChars - prefix.length`. Rendering only grows
 * as text is added (or nearly so), so once the available text overflows the
 * answer is found by binary search within it, and a growing text gets the same
 * answer as the finished one. Undefined while nothing overflows yet and more
 * text may come.
 */
function renderedRoom(
  text: string,
  start: number,
  prefix: string,
  maxChars: number,
  render: Render,
  complete: boolean,
): number | undefined {
  const cap = maxChars - prefix.length;
  const available = Math.min(cap, text.length - start);
  const fits = (length: number) => render(prefix + text.slice(start, start + length)).length <= maxChars;
  if (fits(available)) return available === cap || complete ? cap : undefined;
  let lo = 0;
  let hi = available - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(1, lo);
}

/**
 * The cut of the message that starts at `start` (after `prefix`, with `fence`
 * open there) when the rest does not fit in `maxChars`. Reads no further than
 * `start + maxChars - prefix.length + SPLIT_LOOKAHEAD`.
 */
export function findCut(
  text: string,
  start: number,
  prefix: string,
  fence: OpenFence | undefined,
  maxChars: number,
): Cut {
  const room = maxChars - prefix.length;
  // Too small to close and reopen fences: cut plain text.
  if (room < 16 + (fence?.openLine.length ?? 0) * 2) return plainCut(text, start, Math.max(1, room));
  const limit = start + room;
  const end = Math.min(text.length, limit + SPLIT_LOOKAHEAD);
  const minEnd = start + Math.floor(room / 2);
  const best: (Cut | undefined)[] = [undefined, undefined, undefined, undefined];
  let open = fence;
  let fenceAtLimit = fence;
  const consider = (kind: number, at: number, state: OpenFence | undefined) => {
    if (at < minEnd) return;
    const suffix = state ? fenceCloser(text.slice(at - 1, at), state) : "";
    if (at - start + suffix.length > room) return;
    const nextPrefix = state ? fenceReopener(state) : "";
    best[kind] = { end: at, suffix, nextPrefix, fence: state };
  };

  for (let lineStart = start; lineStart <= limit && lineStart < end; ) {
    const nl = text.indexOf("\n", lineStart);
    const lineEnd = nl === -1 || nl >= end ? end : nl;
    const change = fenceLine(text.slice(lineStart, lineEnd), open);
    if (lineStart <= limit && lineEnd >= limit) fenceAtLimit = open;
    if (change === undefined) {
      const scanTo = Math.min(lineEnd, limit);
      for (let i = lineStart; i < scanTo; i++) {
        const c = text.charCodeAt(i);
        if (c === 32 /* space */) {
          const prev = text.charCodeAt(i - 1);
          const sentence = !open && i > lineStart && (prev === 46 || prev === 33 || prev === 63); // . ! ?
          consider(sentence ? SENTENCE : WORD, i + 1, open);
        } else if (!open && (c === 0x3002 || c === 0xff01 || c === 0xff1f)) {
          consider(SENTENCE, i + 1, open); // 。！？ end CJK sentences without a space
        }
      }
    }
    const after = change === "close" ? undefined : (change ?? open);
    if (lineEnd === nl) {
      const blank = lineEnd === lineStart || text.slice(lineStart, lineEnd).trim() === "";
      // Never end a part right after a fence opens: it would hold an empty code block.
      if (!(change && change !== "close")) consider(blank && !open ? PARAGRAPH : LINE, nl + 1, after);
    }
    open = after;
    if (lineEnd !== nl) break;
    lineStart = nl + 1;
  }

  for (const cut of best) if (cut) return cut;
  // No boundary in the second half of the room: cut between two graphemes.
  const suffixRoom = fenceAtLimit ? fenceAtLimit.closer.length + 1 : 0;
  const at = graphemeBoundary(text, limit - suffixRoom, start + 1, end);
  if (!fenceAtLimit) return { end: at, suffix: "", nextPrefix: "", fence: undefined };
  return {
    end: at,
    suffix: fenceCloser(text.slice(at - 1, at), fenceAtLimit),
    nextPrefix: fenceReopener(fenceAtLimit),
    fence: fenceAtLimit,
  };
}

function plainCut(text: string, start: number, room: number): Cut {
  const end = Math.min(text.length, start + room + SPLIT_LOOKAHEAD);
  return {
    end: graphemeBoundary(text, start + room, start + 1, end),
    suffix: "",
    nextPrefix: "",
    fence: undefined,
  };
}

/**
 * The last grapheme boundary at or before `at` and after `min`, looking no
 * further than `end`; falls back to a code point boundary.
 */
export function graphemeBoundary(text: string, at: number, min: number, end: number): number {
  if (at >= end) return end;
  if (at <= min) return surrogateSafe(text, min);
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const from = Math.max(min, at - 64);
  let found = -1;
  for (const { index } of graphemes.segment(text.slice(from, Math.min(end, at + 16)))) {
    const boundary = from + index;
    if (boundary > at) break;
    found = boundary;
  }
  return found > min ? found : surrogateSafe(text, at);
}

function surrogateSafe(text: string, at: number): number {
  const c = text.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff && at > 1 ? at - 1 : at;
}
