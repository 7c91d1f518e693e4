import { type AttachmentLimits, DEFAULT_ATTACHMENT_LIMITS } from "../attachments/index.js";
import { AbortedError, type ChatError, NotConfiguredError, UnavailableError } from "../errors.js";
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
import type { Approvals } from "../tools/index.js";
import type { UsageMeter } from "../usage/index.js";
import { imagesFor, imagesOfQuestion, readFiles, unstoredQuestion, withFileNotes } from "./attachments.js";
import { toModelMessages } from "./history.js";
import { abortReason, failedWith, openTurn, turnStats } from "./lifecycle.js";
import type { ModelCallLimiter } from "./model-calls.js";
import { modelRound } from "./model-round.js";
import type { BotOptions } from "./options.js";
import { KeyedQueue } from "./queue.js";
import { keepPartialAnswer, rememberAnswer, rememberQuestion, reopenQuestion } from "./remember.js";
import { answerWithTools, type TurnTools } from "./tools.js";
import type { Incoming, ReplyOptions, Turn, TurnStats } from "./types.js";
import { checkLimits, countUsage } from "./usage.js";

export type { BotOptions };

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
  private readonly partialOptions: { saveEveryMs: number; now: () => number; log: Logger };
  private readonly usage: UsageMeter | undefined;
  private readonly tools: TurnTools | undefined;
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
    this.usage = options.usage;
    this.tools = options.tools;
    this.now = options.now ?? Date.now;
    this.partialOptions = { saveEveryMs: options.partialSaveMs ?? 1_000, now: this.now, log: this.log };
  }

  /** The default model, or null when none is configured. */
  get model(): ChatModel | null {
    return this.models.default?.model ?? null;
  }

  /** Open questions to approve tool calls, answered by the surfaces' buttons; absent without tools. */
  get approvals(): Approvals | undefined {
    return this.tools?.approvals;
  }

  /** True once `drain` began: new turns are refused (UnavailableError). */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * True when turns of a conversation run in their messages' arrival order
   * (Incoming.arrivedAt) across replicas, whatever order they reach reply in:
   * an adapter then needs no line of its own for them.
   */
  get ordersTurns(): boolean {
    return this.lock?.ordered === true;
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
      const limitsChecked = checkLimits(this.usage, turn);
      await this.applySettings(turn);
      await limitsChecked();
      await this.waitForTurn(turn, options.onQueued);
      await readFiles(turn, this.attachmentLimits);
      await this.waitForModelCall(turn);
      options.onStart?.();
      await (incoming.again
        ? reopenQuestion(this.store, turn)
        : rememberQuestion(this.store, turn, this.now()));
      const messages = await this.prompt(turn);
      await keepPartialAnswer(this.store, turn, this.partialOptions);
      const ask = options.askApproval;
      yield* withFileNotes(
        turn,
        messages,
        (m) =>
          answerWithTools(turn, m, (sent, tools, last) => modelRound(turn, sent, tools, last, this.now), {
            tools: this.tools,
            ask,
            log: this.log,
          }),
        this.log,
      );
      if (turn.controller.signal.aborted) throw abortReason(turn.controller.signal);
      turn.streamEnded = true;
      turn.releaseModelCall?.();
      // The text is complete: a renderer keeps the final edit's request while the answer is stored.
      yield { type: "answered" };
      const counted = this.countUsage(turn);
      await rememberAnswer(this.store, turn, false, this.now());
      for (const text of await counted) yield { type: "notice", text };
    } catch (err) {
      throw failedWith(turn, err, this.log);
    } finally {
      await this.end(turn, options.shown);
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
    this.running++;
    return openTurn(incoming, signal, this.stopAll.signal, {
      model,
      prompt: this.systemPrompt,
      now: this.now(),
    });
  }

  /** The place's model, prompt and memory setting (one store round trip), when it has settings. */
  private async applySettings(turn: Turn): Promise<void> {
    const place = turn.incoming.place;
    if (!this.settings || !place) return;
    const resolved = await this.settings.resolve(place);
    turn.model = (resolved.model ? this.models.get(resolved.model) : undefined) ?? turn.model;
    turn.prompt = resolved.prompt;
    turn.memory = resolved.memory;
    turn.limits = resolved.limits;
    turn.toolServers = resolved.tools;
  }

  /**
   * Local order first (no polling among this replica's waiters), then the lock
   * shared by replicas. A lock that orders its waiters by arrival orders this
   * replica's too: a local line would keep a message out of the shared one
   * while an earlier turn runs here, and a later message elsewhere would pass it.
   */
  private async waitForTurn(turn: Turn, onQueued: (() => void) | undefined): Promise<void> {
    const { conversationId, arrivedAt } = turn.incoming;
    const signal = turn.controller.signal;
    if (!this.lock?.ordered) {
      turn.release = await this.queue.enter(conversationId, signal).catch((e) => {
        throw abortReason(signal, e);
      });
    }
    const queued = this.lock?.ordered ? onQueued : undefined;
    turn.lease = await this.lock?.acquire(conversationId, signal, arrivedAt, queued).catch((e) => {
      throw abortReason(signal, e);
    });
  }

  /** One of the model calls the process may run at once; waits briefly, then BusyError (nothing stored). */
  private async waitForModelCall(turn: Turn): Promise<void> {
    turn.releaseModelCall = await this.modelCalls?.acquire(turn.controller.signal);
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

  /**
   * Counts the turn's tokens and cost (beside storing the answer); resolves
   * to the notice of a daily limit it took past 80 % or 100 %, shown under
   * the answer and never stored. Never rejects.
   */
  private countUsage(turn: Turn): Promise<string[]> {
    return countUsage(
      this.usage,
      turn,
      this.countTokens ?? tokenCounterFor(turn.model.model.provider),
      this.log,
    );
  }

  /** Keeps a partial answer, counts what it used, releases the conversation, logs and reports the turn. */
  private async end(turn: Turn, shown: Promise<unknown> | undefined): Promise<void> {
    const { conversationId } = turn.incoming;
    turn.releaseModelCall?.();
    if (!turn.answered && turn.generation !== undefined) {
      turn.error ??= "aborted";
      await rememberAnswer(this.store, turn, true, this.now()).catch((e) =>
        this.log.error({ err: e, conversationId }, "could not store a partial answer"),
      );
    }
    // A failed or stopped turn used tokens too (no notice: its answer is already closed).
    await this.countUsage(turn);
    const releaseConversation = async () => {
      await turn.lease
        ?.release()
        .catch((e) => this.log.warn({ err: e, conversationId }, "could not release a turn lock"));
      turn.release?.();
    };
    if (shown && turn.lease) void untilShown(shown).then(releaseConversation);
    else await releaseConversation();
    turn.detach();
    this.running--;
    const stats = turnStats(turn, this.now());
    this.log.info({ turn: stats }, turn.error ? `turn failed: ${turn.error}` : "turn done");
    this.onTurn?.(stats);
  }
}

/** How long a finished turn keeps its conversation for its answer to be shown (a final edit may wait for the budget). */
const SHOWN_WAIT_MS = 60_000;

function untilShown(shown: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SHOWN_WAIT_MS);
    timer.unref();
  });
  return Promise.race([
    shown.then(
      () => undefined,
      () => undefined,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}
