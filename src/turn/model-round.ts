import { toChatError } from "../errors.js";
import type { ChatMessage, ProviderUsage, ToolCallPart } from "../llm/index.js";
import type { Tool } from "../tools/index.js";
import { abortReason } from "./lifecycle.js";
import type { Turn } from "./types.js";

/**
 * One model request of a turn: yields its text deltas (after a blank line
 * when an earlier round already wrote text) and returns the tool calls it
 * ended with. What the provider says it used is kept on the turn (every
 * round counts). The turn's model call (its slot of the global cap) is held
 * until the whole turn is answered.
 */
export async function* modelRound(
  turn: Turn,
  messages: ChatMessage[],
  tools: Tool[],
  last: boolean,
  now: () => number,
): AsyncGenerator<string, ToolCallPart[], undefined> {
  const signal = turn.controller.signal;
  const callStarted = now();
  // Every round's input counts (a tokenizer estimate, when the provider reports none).
  turn.sent = [...(turn.sent ?? []), ...messages];
  const onUsage = (usage: ProviderUsage) => turn.reported.push(usage);
  let calls: ToolCallPart[] = [];
  let gap = turn.text.length > 0 && !turn.text.endsWith("\n\n") ? "\n\n" : "";
  try {
    const stream = turn.model.model.stream(messages, {
      signal,
      onUsage,
      ...(tools.length > 0
        ? { tools: tools.map((t) => t.definition), toolChoice: last ? "none" : "auto" }
        : {}),
      onToolCalls: (c) => {
        calls = c;
      },
    });
    for await (const chunk of stream) {
      if (chunk.length === 0) continue;
      const delta = gap + chunk;
      gap = "";
      turn.firstTokenMs ??= now() - callStarted;
      turn.text += delta;
      turn.deltas++;
      turn.partial?.update(turn.text);
      yield delta;
    }
    if (signal.aborted) throw abortReason(signal);
    return calls;
  } catch (err) {
    const chatError = signal.aborted ? abortReason(signal, err) : toChatError(err);
    turn.error = chatError.code;
    throw chatError;
  }
}
