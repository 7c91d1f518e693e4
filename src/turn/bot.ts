import { type AttachmentLimits, DEFAULT_ATTACHMENT_LIMITS } from "../attachments/index.js";
import {
  AbortedError,
  ChatError,
  NotConfiguredError,
  NothingToRegenerateError,
  toChatError,
  UnavailableError,
} from "../errors.js";
import { type ChatMessage, type ChatModel, Models } from "../llm/index.js";
import type { Logger } from "../log.js";
import {
  type ConversationStore,
  fitToBudget,
  type StateStore,
  type StoredMessage,
  type TokenCounter,
  tokenCounterFor,
} from "../memory/index.js";
import type { TurnLock } from "../replicas/index.js";
import type { PlaceSettings } from "../settings/index.js";
import type { StreamItem } from "../stream/index.js";
import { NO_MODEL_HELP } from "../texts.js";
import { imagesFor, imagesOfQuestion, readFiles, unstoredQuestion, withFileNotes } from "./attachments.js";
import { logStoreFailure } from "./failure.js";
import { toModelMessages } from "./history.js";
import type { ModelCallLimiter } from "./model-calls.js";
import { startPartialAnswer } from "./partial.js";
import { KeyedQueue } from "./queue.js";
import type { Incoming, ReplyOptions, Turn, TurnStats } from "./types.js";

export interface BotOptions {
  /**
   * The models turns may use, by name. None (or no default): every turn fails
   * with `notConfiguredMessage`.
   */
  models?: Models;
  /** One model instead of `models` (a one-model bot; tests): null means none configured. */
  model?: ChatModel | null;
  /** With `model`: its input budget (system prompt + history) in tokens. */
  contextTokens?: number;
  store: ConversationStore;
  log: Logger;
  /** The system prompt where a place sets none (and every prompt, without `settings`). */
  systemPrompt: string;
  /**
   * Per-place settings (model, prompt, memory) read for each turn whose
   * Incoming names its place. Absent: the operator's defaults everywhere.
   */
  settings?: PlaceSettings;
  /**
   * Serializes turns of one conversation across replicas (src/replicas/).
   * Absent: in this process only, which is all a single SQLite process needs.
   */
  lock?: TurnLock;
  /** Default: the provider's tokenizer (src/memory/tokens.ts). */
  countTokens?: TokenCounter;
  /** Default NO_MODEL_HELP. */
  notConfiguredMessage?: string;
  /** How much of a message's files is read (ATTACHMENT_*); default DEFAULT_ATTACHMENT_LIMITS. */
  attachments?: AttachmentLimits;
  onTurn?: (stats: TurnStats) => void;
  /** The cap on model calls at once across every surface (src/turn/model-calls.ts). Absent: no cap. */
  modelCalls?: ModelCallLimiter;
  /** Shortest time between two writes of a streaming answer's text to the store (ms; default 1,000). */
  partialSaveMs?: number;
  /** Injected for tests. */
  now?: () => number;
}

/**
 * The core: one conversation turn at a time per conversation. Adapters call
 * `reply` and render the deltas; everything else (queueing, memory, context
 * fitting, logging) happens here.
 *
 * A partial answer (model failed or the turn was stopped, after some text or
 * none) is stored with `incomplete: true` and sent back to the model marked as
 * interrupted, so the next turn knows it was cut off, and a reloaded chat
 * shows the question was not answered. A turn refused before it began (no
 * model, shutting down) stores nothing.
 */
export class Bot {
  readonly models: Models;
  private readonly store: ConversationStore;
  private readonly log: Logger;
  private readonly systemPrompt: string;
  private readonly settings: PlaceSettings | undefined;
  private readonly countTokens: TokenCounter | undefined;
  private readonly notConfiguredMessage: string;
  /** How much of a message's files is read; adapters download within these too. */
  readonly attachmentLimits: AttachmentLimits;
  private readonly onTurn: ((stats: TurnStats) => void) | undefined;
  private readonly now: () => number;
  private readonly queue = new KeyedQueue();
  private readonly lock: TurnLock | undefined;
  private readonly modelCalls: ModelCallLimiter | undefined;
  private readonly partialSaveMs: number;
  /** Aborts every turn at once (shutdown). */
  private readonly stopAll = new AbortController();
  private running = 0;
  private draining = false;

  constructor(options: BotOptions) {
    const one = options.model;
    this.models =
      options.models ??
      new Models(
        one ? [{ name: one.model, model: one, contextTokens: options.contextTokens ?? 16_000 }] : [],
      );
    this.store = options.store;
    this.log = options.log;
    this.systemPrompt = options.systemPrompt;
    this.settings = options.settings;
    this.countTokens = options.countTokens;
    // Loading the tokenizer blocks the event loop for about a second. Done here, at start-up,
    // not inside the first turn: there it would hold a turn lock whose lease cannot be renewed
    // meanwhile, and another replica could take the conversation.
    (this.countTokens ?? tokenCounterFor(this.models.default?.model.provider ?? "openai"))(
      "warm up the tokenizer",
    );
    this.notConfiguredMessage = options.notConfiguredMessage ?? NO_MODEL_HELP;
    this.attachmentLimits = options.attachments ?? DEFAULT_ATTACHMENT_LIMITS;
    this.onTurn = options.onTurn;
    this.lock = options.lock;
    this.modelCalls = options.modelCalls;
    this.partialSaveMs = options.partialSaveMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** The default model, or null when none is configured. */
  get model(): ChatModel | null {
    return this.models.default?.model ?? null;
  }

  /** True once `drain` began: new turns are refused (UnavailableError). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Turns running or waiting right now. */
  get activeTurns(): number {
    return this.running;
  }

  /** Adapter state (dedupe keys, joined threads), kept in the same backend. */
  get state(): StateStore {
    return this.store.state;
  }

  /**
   * Answers one message. Iterating the result runs the turn: it waits for the
   * conversation's running turn, stores the user message (with `again`: takes
   * back the last answer instead), calls the model and yields its deltas (and
   * notices: lines shown under the answer, never stored), and stores the
   * answer when the stream ends. Errors are
   * thrown as ChatError (src/errors.ts). Stopping iteration early, or aborting
   * `signal`, ends the turn and stores what was answered as incomplete. While
   * the answer streams, its text so far is kept in the store (marked
   * incomplete), so a crash loses nothing the user saw.
   */
  async *reply(
    incoming: Incoming,
    signal?: AbortSignal,
    options: ReplyOptions = {},
  ): AsyncGenerator<StreamItem, void, undefined> {
    const turn = this.begin(incoming, signal);
    try {
      await this.applySettings(turn);
      await this.waitForTurn(turn);
      await readFiles(turn, this.attachmentLimits);
      await this.waitForModelCall(turn);
      options.onStart?.();
      await (incoming.again ? this.reopenQuestion(turn) : this.rememberQuestion(turn));
      const messages = await this.prompt(turn);
      await this.keepPartialAnswer(turn);
      yield* withFileNotes(turn, messages, (m) => this.streamAnswer(turn, m), this.log);
      await this.rememberAnswer(turn, false);
    } catch (err) {
      throw this.failed(turn, err);
    } finally {
      await this.end(turn);
    }
  }

  /** From now on new turns fail with UnavailableError (shutting down); running ones go on. */
  refuseNewTurns(): void {
    this.draining = true;
  }

  /** Refuses new turns (with UnavailableError) and resolves when running ones end or `timeoutMs` passes; true if idle. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.refuseNewTurns();
    const deadline = Date.now() + timeoutMs;
    while (this.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.running === 0;
  }

  /**
   * Ends every running and waiting turn now with `reason` (default: aborted);
   * used at shutdown once the grace period is over. Later turns fail at once.
   */
  abortAll(reason: ChatError = new AbortedError()): void {
    this.stopAll.abort(reason);
  }

  history(conversationId: string): Promise<StoredMessage[]> {
    return this.store.history(conversationId);
  }

  exists(conversationId: string): Promise<boolean> {
    return this.store.exists(conversationId);
  }

  reset(conversationId: string): Promise<void> {
    return this.store.reset(conversationId);
  }

  /** Forgets every conversation whose id starts with `prefix:` (a Slack channel's threads). */
  resetScope(prefix: string): Promise<void> {
    return this.store.resetScope(prefix);
  }

  /**
   * Refuses a turn that cannot run, else counts it as running with one abort
   * controller fed by the caller's signal and by shutdown (listeners removed at
   * the end; AbortSignal.any would keep every turn's signal alive as long as
   * the process).
   */
  private begin(incoming: Incoming, signal: AbortSignal | undefined): Turn {
    const model = this.models.default;
    if (!model) throw new NotConfiguredError(this.notConfiguredMessage);
    if (this.draining) throw new UnavailableError();
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(signal?.reason);
    const onStopAll = () => controller.abort(this.stopAll.signal.reason);
    if (signal?.aborted) onCallerAbort();
    else signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (this.stopAll.signal.aborted) onStopAll();
    else this.stopAll.signal.addEventListener("abort", onStopAll, { once: true });
    this.running++;
    const detach = () => {
      signal?.removeEventListener("abort", onCallerAbort);
      this.stopAll.signal.removeEventListener("abort", onStopAll);
    };
    return {
      incoming,
      model,
      prompt: this.systemPrompt,
      memory: true,
      controller,
      detach,
      startedAt: this.now(),
      text: "",
      deltas: 0,
      answered: false,
    };
  }

  /** The place's model, prompt and memory setting (one store round trip), when it has settings. */
  private async applySettings(turn: Turn): Promise<void> {
    const place = turn.incoming.place;
    if (!this.settings || !place) return;
    const resolved = await this.settings.resolve(place);
    turn.model = (resolved.model ? this.models.get(resolved.model) : undefined) ?? turn.model;
    turn.prompt = resolved.prompt;
    turn.memory = resolved.memory;
  }

  /** Local order first (no polling among this replica's waiters), then the lock shared by replicas. */
  private async waitForTurn(turn: Turn): Promise<void> {
    const { conversationId } = turn.incoming;
    const signal = turn.controller.signal;
    turn.release = await this.queue.enter(conversationId, signal).catch((e) => {
      throw abortReason(signal, e);
    });
    turn.lease = await this.lock?.acquire(conversationId, signal).catch((e) => {
      throw abortReason(signal, e);
    });
  }

  /** One of the model calls the process may run at once; waits briefly, then BusyError (nothing stored). */
  private async waitForModelCall(turn: Turn): Promise<void> {
    turn.releaseModelCall = await this.modelCalls?.acquire(turn.controller.signal);
  }

  /** Stores the place's earlier messages (into an empty conversation only), then the question. */
  private async rememberQuestion(turn: Turn): Promise<void> {
    if (!turn.memory) return;
    const { conversationId, context, text, author } = turn.incoming;
    if (context?.length && !(await this.store.exists(conversationId))) {
      for (const m of context) await this.store.append(conversationId, m);
    }
    const question = { role: "user", text, author, at: this.now(), filesText: turn.filesText } as const;
    turn.generation = await this.store.append(conversationId, question, { attachments: turn.attachments });
  }

  /** Regenerate: takes back the last answer, so the stored question is answered again. */
  private async reopenQuestion(turn: Turn): Promise<void> {
    turn.generation = await this.store.dropLastAnswer(turn.incoming.conversationId);
    if (turn.generation === undefined) {
      const err = new NothingToRegenerateError();
      turn.error = err.code;
      throw err;
    }
  }

  /**
   * The system prompt and the newest history (kept images too, while they
   * fit) that fits the model's context budget. Without memory: the place's
   * earlier messages and the question (with its images) only.
   */
  private async prompt(turn: Turn): Promise<ChatMessage[]> {
    const { incoming, model } = turn;
    const history = turn.memory
      ? await this.store.history(incoming.conversationId)
      : [...(incoming.context ?? []), unstoredQuestion(turn, this.now())];
    const images = turn.memory
      ? await imagesFor(model.model, this.store, incoming, history)
      : imagesOfQuestion(turn);
    const count = this.countTokens ?? tokenCounterFor(model.model.provider);
    return fitToBudget(turn.prompt, toModelMessages(history, images), model.contextTokens, count);
  }

  /** The answer is stored (incomplete) from now on and kept up to date as it streams; see partial.ts. */
  private async keepPartialAnswer(turn: Turn): Promise<void> {
    if (!turn.memory) return;
    const started = await startPartialAnswer(this.store, turn, this.partialSaveMs, this.now, this.log);
    turn.slot = started?.slot;
    turn.partial = started?.writer;
  }

  private async *streamAnswer(turn: Turn, messages: ChatMessage[]): AsyncGenerator<string, void, undefined> {
    const signal = turn.controller.signal;
    const callStarted = this.now();
    try {
      for await (const delta of turn.model.model.stream(messages, { signal })) {
        if (delta.length === 0) continue;
        turn.firstTokenMs ??= this.now() - callStarted;
        turn.text += delta;
        turn.deltas++;
        turn.partial?.update(turn.text);
        yield delta;
      }
      if (signal.aborted) throw abortReason(signal);
    } catch (err) {
      const chatError = signal.aborted ? abortReason(signal, err) : toChatError(err);
      turn.error = chatError.code;
      throw chatError;
    } finally {
      turn.releaseModelCall?.();
    }
  }

  /**
   * Stores the answer, only into the generation the question went into (after a
   * /reset meanwhile, the answer is dropped). `incomplete`: failed, stopped, or
   * the consumer stopped reading; what the user saw (maybe nothing) is kept,
   * marked, so history shows the question was not fully answered.
   */
  private async rememberAnswer(turn: Turn, incomplete: boolean): Promise<void> {
    if (!turn.memory) {
      turn.answered = true;
      return;
    }
    const { conversationId } = turn.incoming;
    const answer = {
      role: "assistant" as const,
      text: turn.text,
      at: this.now(),
      ...(incomplete ? { incomplete: true } : {}),
    };
    await turn.partial?.settle();
    if (turn.slot) await this.store.rewrite(conversationId, turn.slot, answer);
    else await this.store.append(conversationId, answer, { ifGeneration: turn.generation });
    turn.answered = true;
  }

  /** The ChatError a failed turn ends with, noted for its log line (a store failure gets its own). */
  private failed(turn: Turn, err: unknown): ChatError {
    const signal = turn.controller.signal;
    const chatError =
      err instanceof ChatError || !signal.aborted ? toChatError(err) : abortReason(signal, err);
    turn.error ??= chatError.code;
    logStoreFailure(this.log, turn.incoming.conversationId, chatError);
    return chatError;
  }

  /** Keeps a partial answer, releases the conversation, logs and reports the turn. */
  private async end(turn: Turn): Promise<void> {
    const { conversationId } = turn.incoming;
    turn.releaseModelCall?.();
    if (!turn.answered && turn.generation !== undefined) {
      turn.error ??= "aborted";
      await this.rememberAnswer(turn, true).catch((e) =>
        this.log.error({ err: e, conversationId }, "could not store a partial answer"),
      );
    }
    await turn.lease
      ?.release()
      .catch((e) => this.log.warn({ err: e, conversationId }, "could not release a turn lock"));
    turn.release?.();
    turn.detach();
    this.running--;
    const stats: TurnStats = {
      conversationId,
      platform: turn.incoming.platform ?? conversationId.split(":")[0] ?? "unknown",
      provider: turn.model.model.provider,
      model: turn.model.model.model,
      modelName: turn.model.name,
      timeToFirstTokenMs: turn.firstTokenMs,
      durationMs: this.now() - turn.startedAt,
      deltas: turn.deltas,
      chars: turn.text.length,
      error: turn.error,
    };
    this.log.info({ turn: stats }, turn.error ? `turn failed: ${turn.error}` : "turn done");
    this.onTurn?.(stats);
  }
}

/** The ChatError an aborted signal carries, or a plain AbortedError. */
function abortReason(signal: AbortSignal, cause?: unknown): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new AbortedError(undefined, cause);
}
