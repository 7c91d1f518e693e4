import { AbortedError, ChatError, toChatError } from "../errors.js";
import type { NamedModel } from "../llm/index.js";
import type { Logger } from "../log.js";
import { logStoreFailure } from "./failure.js";
import type { Incoming, Turn, TurnStats } from "./types.js";

/**
 * A turn's start and end, apart from what it does in between (bot.ts): one
 * abort controller fed by the caller's signal and by shutdown, the ChatError
 * it fails with, and the figures it is reported with.
 */

/**
 * A new turn with its own abort controller, fed by `signal` and `stopAll`.
 * Its `detach` removes both listeners at the end (AbortSignal.any would keep
 * every turn's signal alive as long as the process).
 */
export function openTurn(
  incoming: Incoming,
  signal: AbortSignal | undefined,
  stopAll: AbortSignal,
  defaults: { model: NamedModel; prompt: string; now: number },
): Turn {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(signal?.reason);
  const onStopAll = () => controller.abort(stopAll.reason);
  if (signal?.aborted) onCallerAbort();
  else signal?.addEventListener("abort", onCallerAbort, { once: true });
  if (stopAll.aborted) onStopAll();
  else stopAll.addEventListener("abort", onStopAll, { once: true });
  const detach = () => {
    signal?.removeEventListener("abort", onCallerAbort);
    stopAll.removeEventListener("abort", onStopAll);
  };
  return {
    incoming,
    model: defaults.model,
    prompt: defaults.prompt,
    memory: true,
    controller,
    detach,
    startedAt: defaults.now,
    text: "",
    deltas: 0,
    answered: false,
    reported: [],
  };
}

/** The ChatError an aborted signal carries, or a plain AbortedError. */
export function abortReason(signal: AbortSignal, cause?: unknown): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new AbortedError(undefined, cause);
}

/** The ChatError a failed turn ends with, noted for its log line (a store failure gets its own). */
export function failedWith(turn: Turn, err: unknown, log: Logger): ChatError {
  const signal = turn.controller.signal;
  const chatError = err instanceof ChatError || !signal.aborted ? toChatError(err) : abortReason(signal, err);
  turn.error ??= chatError.code;
  logStoreFailure(log, turn.incoming.conversationId, chatError);
  return chatError;
}

/** What the turn's log line and metrics report. */
export function turnStats(turn: Turn, now: number): TurnStats {
  const { conversationId } = turn.incoming;
  return {
    conversationId,
    platform: turn.incoming.platform ?? conversationId.split(":")[0] ?? "unknown",
    provider: turn.model.model.provider,
    model: turn.model.model.model,
    modelName: turn.model.name,
    timeToFirstTokenMs: turn.firstTokenMs,
    durationMs: now - turn.startedAt,
    deltas: turn.deltas,
    chars: turn.text.length,
    error: turn.error,
    ...(turn.usage ? { usage: turn.usage } : {}),
    ...(turn.toolCalls?.length ? { toolCalls: turn.toolCalls } : {}),
  };
}
