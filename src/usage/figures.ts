import type { ProviderUsage } from "../llm/index.js";
import type { TurnUsage } from "./ledger.js";

/** Counts with the tokenizer, for what the provider did not report. */
export interface Estimate {
  /** The prompt sent (system prompt and history). */
  input(): number;
  /** The answer's text so far. */
  output(): number;
}

/**
 * One turn's tokens: what the provider reported for each request, summed; a
 * figure it left out (an OpenAI-compatible server that reports none, a stream
 * cut before its last event) is counted with the tokenizer and the result
 * marked estimated. Undefined when there is nothing to count: no report, no
 * text and no finished stream (a request refused before the model ran is not
 * billed).
 */
export function settleUsage(
  reports: readonly ProviderUsage[],
  estimate: Estimate,
  ran: boolean,
): Omit<TurnUsage, "cost"> | undefined {
  if (reports.length === 0) {
    if (!ran) return undefined;
    return {
      inputTokens: estimate.input(),
      outputTokens: estimate.output(),
      cachedInputTokens: 0,
      estimated: true,
    };
  }
  let estimated = false;
  let inputTokens = 0;
  let outputTokens = 0;
  let cachedInputTokens = 0;
  reports.forEach((r, i) => {
    if (r.inputTokens === undefined) estimated = true;
    inputTokens += r.inputTokens ?? estimate.input();
    cachedInputTokens += r.cachedInputTokens ?? 0;
    // Only the last request wrote the text shown; an earlier one without output wrote nothing.
    if (r.outputTokens !== undefined) outputTokens += r.outputTokens;
    else if (i === reports.length - 1) {
      estimated = true;
      outputTokens += estimate.output();
    }
  });
  return { inputTokens, outputTokens, cachedInputTokens, estimated };
}
