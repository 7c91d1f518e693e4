import { NothingToRegenerateError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ConversationStore } from "../memory/index.js";
import { startPartialAnswer } from "./partial.js";
import type { Turn } from "./types.js";

/**
 * What a turn stores (bot.ts runs these in order): the question, the answer
 * as it streams, and the answer when it ends. A turn whose place has memory
 * off stores nothing.
 */

/** Stores the place's earlier messages (into an empty conversation only), then the question. */
export async function rememberQuestion(store: ConversationStore, turn: Turn, now: number): Promise<void> {
  if (!turn.memory) return;
  const { conversationId, context, text, author } = turn.incoming;
  if (context?.length && !(await store.exists(conversationId))) {
    for (const m of context) await store.append(conversationId, m);
  }
  const question = { role: "user", text, author, at: now, filesText: turn.filesText } as const;
  turn.generation = await store.append(conversationId, question, { attachments: turn.attachments });
}

/** Regenerate: takes back the last answer, so the stored question is answered again. */
export async function reopenQuestion(store: ConversationStore, turn: Turn): Promise<void> {
  turn.generation = await store.dropLastAnswer(turn.incoming.conversationId);
  if (turn.generation === undefined) {
    const err = new NothingToRegenerateError();
    turn.error = err.code;
    throw err;
  }
}

/** The answer is stored (incomplete) from now on and kept up to date as it streams; see partial.ts. */
export async function keepPartialAnswer(
  store: ConversationStore,
  turn: Turn,
  options: { saveEveryMs: number; now: () => number; log: Logger },
): Promise<void> {
  if (!turn.memory) return;
  const started = await startPartialAnswer(store, turn, options.saveEveryMs, options.now, options.log);
  turn.slot = started?.slot;
  turn.partial = started?.writer;
}

/**
 * Stores the answer, only into the generation the question went into (after a
 * /reset meanwhile, the answer is dropped). `incomplete`: failed, stopped, or
 * the consumer stopped reading; what the user saw (maybe nothing) is kept,
 * marked, so history shows the question was not fully answered.
 */
export async function rememberAnswer(
  store: ConversationStore,
  turn: Turn,
  incomplete: boolean,
  now: number,
): Promise<void> {
  if (!turn.memory) {
    turn.answered = true;
    return;
  }
  const { conversationId } = turn.incoming;
  const answer = {
    role: "assistant" as const,
    text: turn.text,
    at: now,
    ...(incomplete ? { incomplete: true } : {}),
    ...(turn.toolRounds?.length ? { tools: turn.toolRounds } : {}),
  };
  await turn.partial?.settle();
  if (turn.slot) await store.rewrite(conversationId, turn.slot, answer);
  else await store.append(conversationId, answer, { ifGeneration: turn.generation });
  turn.answered = true;
}
