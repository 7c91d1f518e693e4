import { AbortedError, ChatError, NotConfiguredError, toChatError, UnavailableError } from "./errors.js";
import type { ChatMessage, ChatModel } from "./llm/types.js";
import type { Logger } from "./log.js";
import { fitToBudget, type TokenCounter } from "./memory/fit.js";
import type { Lease, TurnLock } from "./memory/lock.js";
import { tokenCounterFor } from "./memory/tokens.js";
import type { Author, ConversationStore, StateStore, StoredMessage } from "./memory/types.js";
import { KeyedQueue } from "./queue.js";

/** One user message as an adapter hands it to the core. */
export interface Incoming {
  /** Built by the adapter: `slack:T:C:ts`, `discord:dm:C`, `web:uuid`, ... */
  conversationId: string;
  author: Author;
  text: string;
  /**
   * Earlier messages of the place (e.g. a Slack thread the bot was mentioned
   * in mid-way); stored before `text` when the conversation is still empty.
   */
  context?: StoredMessage[];
  /** "slack", "discord" or "web"; for logs and metrics. */
  platform?: string;
}

/** Figures of one finished (or failed) turn; logged, and given to `onTurn`. */
export interface TurnStats {
  conversationId: string;
  platform: string;
  provider: string;
  model: string;
  /** ms from the model call to its first delta; undefined when none came. */
  timeToFirstTokenMs: number | undefined;
  durationMs: number;
  deltas: number;
  chars: number;
  /** ChatError code when the turn failed. */
  error: string | undefined;
}

export interface BotOptions {
  /** null: no model configured; every turn fails with `notConfiguredMessage`. */
  model: ChatModel | null;
  store: ConversationStore;
  log: Logger;
  systemPrompt: string;
  /** Input budget (system prompt + history) in tokens. */
  contextTokens: number;
  /**
   * Serializes turns of one conversation across replicas (src/memory/lock.ts).
   * Absent: in this process only, which is all a single SQLite process needs.
   */
  lock?: TurnLock;
  /** Default: the provider's tokenizer (src/memory/tokens.ts). */
  countTokens?: TokenCounter;
  notConfiguredMessage?: string;
  onTurn?: (stats: TurnStats) => void;
  /** Injected for tests. */
  now?: () => number;
}

const NOT_CONFIGURED =
  "No model is configured. Set OPENAI_API_KEY, ANTHROPIC_API_KEY, or OPENAI_BASE_URL (e.g. http://localhost:11434/v1 for Ollama) and restart.";

/** Appended to an interrupted answer when it is sent back to the model as history. */
export const INCOMPLETE_MARK = "\n\n[this answer was interrupted]";

/**
 * The core: one conversation turn at a time per conversation. Adapters call
 * `reply` and render the deltas; everything else (queueing, memory, context
 * fitting, logging) happens here.
 *
 * A partial answer (model failed or the turn was stopped, after some text or
 * none) is stored with `incomplete: true` and sent back to the model with
 * INCOMPLETE_MARK, so the next turn knows it was cut off, and a reloaded chat
 * shows the question was not answered. A turn refused before it began (no
 * model, shutting down) stores nothing.
 */
export class Bot {
  readonly model: ChatModel | null;
  private readonly store: ConversationStore;
  private readonly log: Logger;
  private readonly systemPrompt: string;
  private readonly contextTokens: number;
  private readonly countTokens: TokenCounter;
  private readonly notConfiguredMessage: string;
  private readonly onTurn: ((stats: TurnStats) => void) | undefined;
  private readonly now: () => number;
  private readonly queue = new KeyedQueue();
  private readonly lock: TurnLock | undefined;
  /** Aborts every turn at once (shutdown). */
  private readonly stopAll = new AbortController();
  private running = 0;
  private draining = false;

  constructor(options: BotOptions) {
    this.model = options.model;
    this.store = options.store;
    this.log = options.log;
    this.systemPrompt = options.systemPrompt;
    this.contextTokens = options.contextTokens;
    this.countTokens = options.countTokens ?? tokenCounterFor(options.model?.provider ?? "openai");
    // Loading the tokenizer blocks the event loop for about a second. Done here, at start-up,
    // not inside the first turn: there it would hold a turn lock whose lease cannot be renewed
    // meanwhile, and another replica could take the conversation.
    this.countTokens("warm up the tokenizer");
    this.notConfiguredMessage = options.notConfiguredMessage ?? NOT_CONFIGURED;
    this.onTurn = options.onTurn;
    this.lock = options.lock;
    this.now = options.now ?? Date.now;
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
   * conversation's running turn, stores the user message, calls the model and
   * yields its deltas, and stores the answer when the stream ends. Errors are
   * thrown as ChatError (src/errors.ts). Stopping iteration early, or aborting
   * `signal`, ends the turn and stores what was answered as incomplete.
   */
  async *reply(incoming: Incoming, signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
    const { conversationId } = incoming;
    const model = this.model;
    if (!model) throw new NotConfiguredError(this.notConfiguredMessage);
    if (this.draining) throw new UnavailableError();
    // One controller per turn, fed by the caller's signal and by shutdown, with listeners removed
    // at the end (AbortSignal.any would keep every turn's signal alive as long as the process).
    const turn = new AbortController();
    const turnSignal = turn.signal;
    const onCallerAbort = () => turn.abort(signal?.reason);
    const onStopAll = () => turn.abort(this.stopAll.signal.reason);
    if (signal?.aborted) onCallerAbort();
    else signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (this.stopAll.signal.aborted) onStopAll();
    else this.stopAll.signal.addEventListener("abort", onStopAll, { once: true });
    this.running++;
    let release: (() => void) | undefined;
    let lease: Lease | undefined;
    const started = this.now();
    let firstAt: number | undefined;
    let text = "";
    let deltas = 0;
    let error: string | undefined;
    let stored = false;
    let generation: string | undefined;
    try {
      release = await this.queue.enter(conversationId, turnSignal).catch((e) => {
        throw abortReason(turnSignal, e);
      });
      // Local order first (no polling among this replica's waiters), then the shared lock.
      lease = await this.lock?.acquire(conversationId, turnSignal).catch((e) => {
        throw abortReason(turnSignal, e);
      });
      if (incoming.context?.length && !(await this.store.exists(conversationId))) {
        for (const m of incoming.context) await this.store.append(conversationId, m);
      }
      generation = await this.store.append(conversationId, {
        role: "user",
        text: incoming.text,
        author: incoming.author,
        at: this.now(),
      });
      const history = await this.store.history(conversationId);
      const messages = fitToBudget(
        this.systemPrompt,
        toModelMessages(history),
        this.contextTokens,
        this.countTokens,
      );
      const callStarted = this.now();
      try {
        for await (const delta of model.stream(messages, { signal: turnSignal })) {
          if (delta.length === 0) continue;
          firstAt ??= this.now() - callStarted;
          text += delta;
          deltas++;
          yield delta;
        }
        if (turnSignal.aborted) throw abortReason(turnSignal);
      } catch (err) {
        const chatError = turnSignal.aborted ? abortReason(turnSignal, err) : toChatError(err);
        error = chatError.code;
        throw chatError;
      }
      // Only into the conversation this turn began in: after a /reset meanwhile, the answer is dropped.
      await this.store.append(
        conversationId,
        { role: "assistant", text, at: this.now() },
        { ifGeneration: generation },
      );
      stored = true;
    } finally {
      if (!stored && generation !== undefined) {
        // Failed, aborted, or the consumer stopped iterating: keep what the user saw (maybe
        // nothing), marked incomplete, so history shows the question was not fully answered.
        error ??= "aborted";
        await this.store
          .append(
            conversationId,
            { role: "assistant", text, at: this.now(), incomplete: true },
            { ifGeneration: generation },
          )
          .catch((e) => this.log.error({ err: e, conversationId }, "could not store a partial answer"));
      }
      await lease
        ?.release()
        .catch((e) => this.log.warn({ err: e, conversationId }, "could not release a turn lock"));
      release?.();
      signal?.removeEventListener("abort", onCallerAbort);
      this.stopAll.signal.removeEventListener("abort", onStopAll);
      this.running--;
      const stats: TurnStats = {
        conversationId,
        platform: incoming.platform ?? conversationId.split(":")[0] ?? "unknown",
        provider: model.provider,
        model: model.model,
        timeToFirstTokenMs: firstAt,
        durationMs: this.now() - started,
        deltas,
        chars: text.length,
        error,
      };
      this.log.info({ turn: stats }, error ? `turn failed: ${error}` : "turn done");
      this.onTurn?.(stats);
    }
  }

  /** Refuses new turns (with UnavailableError) and resolves when running ones end or `timeoutMs` passes; true if idle. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
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
}

/** The ChatError an aborted signal carries, or a plain AbortedError. */
function abortReason(signal: AbortSignal, cause?: unknown): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new AbortedError(undefined, cause);
}

/**
 * Stored messages as the model sees them. When more than one person speaks,
 * each user message starts with `[Name]` so the model knows who said what.
 */
export function toModelMessages(history: StoredMessage[]): ChatMessage[] {
  const authors = new Set(history.filter((m) => m.role === "user").map((m) => m.author?.id ?? ""));
  const named = authors.size > 1;
  return history.map((m) => {
    if (m.role === "assistant") {
      if (!m.incomplete) return { role: "assistant", content: m.text };
      return { role: "assistant", content: m.text ? m.text + INCOMPLETE_MARK : INCOMPLETE_MARK.trim() };
    }
    const content = named && m.author ? `[${m.author.name}] ${m.text}` : m.text;
    return { role: "user", content };
  });
}
