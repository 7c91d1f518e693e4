import type { Price } from "../config/index.js";
import type { TurnUsage } from "./ledger.js";

/**
 * What a turn cost at `price` (per million tokens): uncached input at the
 * input price, cached input at `cachedInput` (default the input price),
 * output at the output price. Undefined without a price.
 */
export function costOf(usage: Omit<TurnUsage, "cost">, price: Price | undefined): number | undefined {
  if (!price) return undefined;
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const perMillion =
    (usage.inputTokens - cached) * price.input +
    cached * (price.cachedInput ?? price.input) +
    usage.outputTokens * price.output;
  return perMillion / 1_000_000;
}
