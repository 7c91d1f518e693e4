/**
 * A message as context fitting sees it: a role and its text. The model's own
 * message type has this shape, so the model client and memory stay apart.
 */
export interface FitMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Counts the tokens of one text as the model would. */
export type TokenCounter = (text: string) => number;

/** Tokens a chat format adds around each message (role markers); OpenAI documents ~3-4. */
export const PER_MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * Keeps the system prompt and the newest messages that fit in `budgetTokens`.
 * A single message that does not fit even alone is truncated (its start is
 * kept, with a note) rather than sent to fail. The last message (the user's
 * new one) is always kept, truncated if it must be.
 */
export function fitToBudget(
  system: string,
  history: FitMessage[],
  budgetTokens: number,
  count: TokenCounter,
): FitMessage[] {
  const systemCost = count(system) + PER_MESSAGE_OVERHEAD_TOKENS;
  let left = budgetTokens - systemCost;
  const kept: FitMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i]!;
    const cost = count(m.content) + PER_MESSAGE_OVERHEAD_TOKENS;
    if (cost <= left) {
      kept.push(m);
      left -= cost;
      continue;
    }
    if (kept.length === 0) {
      kept.push({
        role: m.role,
        content: truncateToTokens(m.content, Math.max(left - PER_MESSAGE_OVERHEAD_TOKENS, 16), count),
      });
    }
    break;
  }
  kept.reverse();
  // Providers want the first non-system message to be the user's.
  while (kept.length > 1 && kept[0]!.role === "assistant") kept.shift();
  return [{ role: "system", content: system }, ...kept];
}

const TRUNCATION_NOTE = "\n\n[message truncated to fit the model's context]";

/** The longest start of `text` that fits in `maxTokens` with the note; binary search over length. */
export function truncateToTokens(text: string, maxTokens: number, count: TokenCounter): string {
  if (count(text) <= maxTokens) return text;
  const budget = Math.max(1, maxTokens - count(TRUNCATION_NOTE));
  let lo = 0;
  // No token is longer than ~32 characters in practice, so a longer prefix cannot fit:
  // searching only within it keeps each count small even for a megabyte paste.
  let hi = Math.min(text.length, budget * 32);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(text.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo) + TRUNCATION_NOTE;
}
