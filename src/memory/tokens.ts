import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import type { TokenCounter } from "./fit.js";

let encoder: Tiktoken | undefined;

/**
 * BPE time grows with the square of a pre-token's length, and a run without
 * spaces ("xxxx…", minified code) is one pre-token: 8,000 characters took 7 s.
 * Runs longer than this are counted in pieces of this size, which bounds the
 * cost and over-counts by at most one token per piece.
 */
const MAX_RUN_CHARS = 64;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN_CHARS + 1},}`, "g");

/** Counts of recent texts: history is counted again at every turn. */
const memo = new Map<string, number>();
const MEMO_ENTRIES = 4_096;

function encodeLength(text: string): number {
  encoder ??= new Tiktoken(o200k);
  return text.length === 0 ? 0 : encoder.encode(text).length;
}

function countPieces(text: string): number {
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    total += encodeLength(text.slice(last, match.index));
    for (let i = 0; i < match[0].length; i += MAX_RUN_CHARS)
      total += encodeLength(match[0].slice(i, i + MAX_RUN_CHARS));
    last = match.index + match[0].length;
  }
  return total + encodeLength(text.slice(last));
}

/** OpenAI's o200k_base tokenizer (GPT-4o and later), loaded once, on first use. */
export const countOpenAITokens: TokenCounter = (text) => {
  if (text.length < 64) return countPieces(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const n = countPieces(text);
  if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(text, n);
  return n;
};

/**
 * Anthropic publishes no local tokenizer. Claude's tokens average about 3.5
 * characters of English; we count 1 token per 3 characters (and one per
 * non-ASCII code point, which covers CJK and emoji) so the estimate errs on
 * the side of sending less, never more, than the budget.
 */
export const estimateAnthropicTokens: TokenCounter = (text) => {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3) + other;
};

export function tokenCounterFor(provider: string): TokenCounter {
  return provider === "anthropic" ? estimateAnthropicTokens : countOpenAITokens;
}
