import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import type { TokenCounter } from "./fit.js";

let encoder: Tiktoken | undefined;

/** OpenAI's o200k_base tokenizer (GPT-4o and later), loaded once, on first use. */
export const countOpenAITokens: TokenCounter = (text) => {
  encoder ??= new Tiktoken(o200k);
  return encoder.encode(text).length;
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
