import type { TracedCall } from "./protocol.js";

export const CURSOR = "▌";

/** One answer as people saw it, measured against what the model produced. Times in ms. */
export interface AnswerFigures {
  /** Time-averaged lag between text produced and text shown, first token to final text. */
  stalenessMs: number;
  /** First token -> first text shown. */
  firstTextMs: number;
  /** Last token -> final text (no cursor) shown. */
  finalTextMs: number;
  /** The answer's accepted requests, ms after its first token. */
  requestsAt: number[];
  /** The final text is exactly the model's text. */
  exact: boolean;
}

/** Characters of `text` that `shown` shows, from the start. */
function visible(shown: string, text: string): number {
  let k = 0;
  while (k < shown.length && k < text.length && shown.charCodeAt(k) === text.charCodeAt(k)) k++;
  return k;
}

/**
 * The figures of the answer to question `questionId`: `tokens` produced at
 * `producedAt`, shown by the accepted message creates and edits of `calls`
 * (the create replying to the question, then edits of that message).
 * Undefined until its final text was shown.
 */
export function measureAnswer(
  questionId: string,
  tokens: string[],
  producedAt: number[],
  calls: TracedCall[],
): AnswerFigures | undefined {
  const post = calls.find((c) => c.method === "POST" && c.replyTo === questionId && c.status === 200);
  if (!post?.id || producedAt.length < tokens.length) return undefined;
  const shown = calls
    .filter((c) => c.status === 200 && (c === post || c.path.endsWith(`/messages/${post.id}`)))
    .sort((a, b) => a.appliedAt - b.appliedAt);
  const text = tokens.join("");
  const final = shown.find(
    (c) => c.content === text || (c.content !== undefined && !c.content.includes(CURSOR)),
  );
  const last = shown.at(-1);
  if (!final || last?.content?.includes(CURSOR)) return undefined;
  const cum: number[] = [];
  let sum = 0;
  for (const t of tokens) {
    sum += t.length;
    cum.push(sum);
  }
  const start = producedAt[0] as number;
  const end = final.appliedAt;
  // Between two requests the message shows a fixed prefix; the lag at time t is the age of the
  // oldest character produced and not shown (0 when none): integrated piece by piece.
  let area = 0;
  let v = 0;
  let from = start;
  const oldestUnshown = (chars: number) => {
    const i = cum.findIndex((c) => c > chars);
    return i < 0 ? Number.POSITIVE_INFINITY : (producedAt[i] as number);
  };
  const integrate = (a: number, b: number) => {
    const p = oldestUnshown(v);
    if (b <= p) return;
    const a1 = Math.max(a, p);
    area += ((b - p) ** 2 - (a1 - p) ** 2) / 2;
  };
  for (const c of shown) {
    if (c.appliedAt > end) break;
    const at = Math.max(start, c.appliedAt);
    integrate(from, at);
    from = at;
    v = visible(c.content ?? "", text);
  }
  integrate(from, end);
  return {
    stalenessMs: area / Math.max(1, end - start),
    firstTextMs: (shown.find((c) => visible(c.content ?? "", text) > 0)?.appliedAt ?? end) - start,
    finalTextMs: end - (producedAt.at(-1) as number),
    requestsAt: shown.map((c) => c.appliedAt - start),
    exact: last?.content === text,
  };
}

export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
