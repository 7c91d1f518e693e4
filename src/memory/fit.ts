/** Text inside a message, as context fitting sees it. */
export interface FitTextPart {
  type: "text";
  text: string;
}

/** An image inside a message: fitting needs only its size (the model's own part has more fields). */
export interface FitImagePart {
  type: "image";
  width: number;
  height: number;
  name?: string;
}

/** A tool call (its name and arguments count) or a tool's result (its text counts). */
export interface FitToolPart {
  type: "tool_call" | "tool_result";
  name: string;
  args?: unknown;
  text?: string;
}

/**
 * A message as context fitting sees it: a role and its text, or its parts.
 * The model's own message type has this shape, so the model client and
 * memory stay apart. A `tool` message answers the assistant message before
 * it: one is never kept without the other.
 */
export interface FitMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | Array<FitTextPart | FitImagePart | FitToolPart>;
}

/** Counts the tokens of one text as the model would. */
export type TokenCounter = (text: string) => number;

/** Tokens a chat format adds around each message (role markers); OpenAI documents ~3-4. */
export const PER_MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * What an image costs, on the high side of both providers: Anthropic about
 * width × height / 750; OpenAI's high detail 85 plus 170 per 512 px tile
 * after fitting 2048 × 2048 and then 768 px on the short side.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision#calculate-image-costs
 * @see https://platform.openai.com/docs/guides/images-vision#calculating-costs
 */
export function imageTokens(width: number, height: number): number {
  const anthropic = Math.ceil((width * height) / 750);
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / Math.max(w, h));
  w *= fit;
  h *= fit;
  const short = Math.min(1, 768 / Math.min(w, h));
  w *= short;
  h *= short;
  const openai = 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
  return Math.max(anthropic, openai);
}

/** A message's cost in tokens: its text, its images and the per-message overhead. */
function costOf(m: FitMessage, count: TokenCounter): number {
  if (typeof m.content === "string") return count(m.content) + PER_MESSAGE_OVERHEAD_TOKENS;
  let cost = PER_MESSAGE_OVERHEAD_TOKENS;
  for (const p of m.content) {
    if (p.type === "text") cost += count(p.text);
    else if (p.type === "image") cost += imageTokens(p.width, p.height);
    else cost += count(p.name) + count(p.text ?? JSON.stringify(p.args ?? {}));
  }
  return cost;
}

/** The message with its images replaced by a line naming them; undefined when it has none. */
function withoutImages<M extends FitMessage>(m: M): M | undefined {
  if (typeof m.content === "string" || !m.content.some((p) => p.type === "image")) return undefined;
  const content = m.content.map((p) =>
    p.type === "image"
      ? {
          type: "text" as const,
          text: `[image ${p.name ?? ""} not sent again: the conversation is too long]`,
        }
      : p,
  );
  return { ...m, content };
}

/**
 * Keeps the system prompt and the newest messages that fit in `budgetTokens`.
 * Images count by their size; an older message whose images do not fit is
 * kept without them (a line says so) when its text does. A single message
 * that does not fit even alone is truncated (its start is kept, with a note)
 * rather than sent to fail. The last message (the user's new one) is always
 * kept, without its images and truncated if it must be.
 */
export function fitToBudget<M extends FitMessage>(
  system: string,
  history: M[],
  budgetTokens: number,
  count: TokenCounter,
): M[] {
  const systemCost = count(system) + PER_MESSAGE_OVERHEAD_TOKENS;
  let left = budgetTokens - systemCost;
  const kept: M[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    let m = history[i]!;
    let cost = costOf(m, count);
    if (cost > left) {
      const bare = withoutImages(m);
      if (bare) {
        m = bare;
        cost = costOf(m, count);
      }
    }
    if (cost <= left) {
      kept.push(m);
      left -= cost;
      continue;
    }
    if (kept.length === 0) {
      const room = Math.max(left - PER_MESSAGE_OVERHEAD_TOKENS, 16);
      const content =
        typeof m.content === "string"
          ? truncateToTokens(m.content, room, count)
          : truncateParts(m.content as FitTextPart[], room, count);
      kept.push({ ...m, content });
    }
    break;
  }
  kept.reverse();
  // Providers want the first non-system message to be the user's (and a tool result after its call).
  while (kept.length > 1 && (kept[0]!.role === "assistant" || kept[0]!.role === "tool")) kept.shift();
  return [{ role: "system", content: system } as M, ...kept];
}

/** Text parts cut to `maxTokens` in all: each keeps what is left of the budget. */
function truncateParts(parts: FitTextPart[], maxTokens: number, count: TokenCounter): FitTextPart[] {
  let left = maxTokens;
  const out: FitTextPart[] = [];
  for (const p of parts) {
    if (left <= 0) break;
    const text = truncateToTokens(p.text, left, count);
    out.push({ type: "text", text });
    left -= count(text);
  }
  return out;
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
