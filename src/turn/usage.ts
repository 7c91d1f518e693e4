import { type ChatMessage, textOf } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { TokenCounter } from "../memory/index.js";
import { settleUsage, type UsageMeter, type UsageSubject } from "../usage/index.js";
import type { Turn } from "./types.js";

/**
 * The Bot's usage steps (src/usage/ does the counting): a limit check before
 * the turn, and counting after it, whichever way it ended.
 */

/** Who used the tokens and where; the web (no place) counts as one workspace of its own. */
function subjectOf(turn: Turn): UsageSubject {
  const { place, platform = "unknown", author } = turn.incoming;
  return { place: place ?? { platform, workspace: platform }, userId: author.id, model: turn.model.name };
}

/**
 * Starts the turn's limit check: today's use is read at once, beside the
 * place's settings. The function it returns refuses the question
 * (LimitReachedError, saying when the limit resets) when the asker or the
 * channel has used a daily limit of the place: before the turn waits,
 * stores or calls anything.
 */
export function checkLimits(meter: UsageMeter | undefined, turn: Turn): () => Promise<void> {
  const admission = meter?.admission(subjectOf(turn));
  return async () => admission?.admit(turn.limits);
}

/**
 * Settles the turn's tokens (the provider's figures, else the tokenizer's,
 * marked estimated) into `turn.usage`, counts them, and returns the notice
 * lines its answer carries. Once per turn; a failure to count is logged with
 * the figures (the answer was already given) and shows nothing; it never rejects.
 */
export async function countUsage(
  meter: UsageMeter | undefined,
  turn: Turn,
  count: TokenCounter,
  log: Logger,
): Promise<string[]> {
  if (turn.counted) return [];
  turn.counted = true;
  try {
    return await settleAndRecord(meter, turn, count);
  } catch (err) {
    log.error(
      { err, conversationId: turn.incoming.conversationId, user: turn.incoming.author.id, usage: turn.usage },
      "could not count a turn's usage",
    );
    return [];
  }
}

async function settleAndRecord(
  meter: UsageMeter | undefined,
  turn: Turn,
  count: TokenCounter,
): Promise<string[]> {
  const figures = settleUsage(
    turn.reported,
    {
      input: () => (turn.sent ?? []).reduce((n, m) => n + estimateInput(m, count), 0),
      output: () => count(turn.text),
    },
    turn.text.length > 0 || turn.streamEnded === true,
  );
  if (!figures) return [];
  turn.usage = meter ? meter.withCost(turn.model.name, figures) : figures;
  return meter ? meter.record(subjectOf(turn), turn.usage, turn.limits) : [];
}

/**
 * A rough figure for an image a provider did not count: OpenAI bills a
 * 1024 x 1024 image at 765 tokens (detail high), Anthropic about
 * width x height / 750, some 1,400 for the same image; images here are
 * scaled to at most 1,568 px a side (src/attachments/).
 * @see https://platform.openai.com/docs/guides/images-vision#calculating-costs
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision#calculate-image-costs
 */
const IMAGE_TOKENS_ESTIMATE = 1_000;

/** About 4 tokens of framing per message, as the chat formats add, its text, and each image. */
function estimateInput(m: ChatMessage, count: TokenCounter): number {
  const images = typeof m.content === "string" ? 0 : m.content.filter((p) => p.type === "image").length;
  return 4 + count(textOf(m.content)) + images * IMAGE_TOKENS_ESTIMATE;
}
