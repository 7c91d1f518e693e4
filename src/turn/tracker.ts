import { randomUUID } from "node:crypto";
import { AbortedError, ShutdownError, StoppedError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Author, StateStore } from "../memory/index.js";

/** What a tracked turn is about; `platform` is the surface that runs it. */
export interface TrackedTurn {
  /** Names the turn in controls (a Stop button's value); default: a random id. */
  id?: string;
  conversationId: string;
  platform: string;
  /** Who asked: they may stop the answer (and so may an admin, see Presser). */
  askedBy?: Author;
}

/** Who pressed a control of a turn, as their platform knows them. */
export interface Presser {
  id: string;
  name: string;
  /**
   * The platform's own rule says they may control anyone's answer there
   * (Slack: workspace admin or owner; Discord: Manage Messages in the channel).
   */
  isAdmin: boolean;
}

/** What a Stop press did: stopped it; refused (not the asker, not an admin); or no such answer runs. */
export type StopOutcome =
  | { outcome: "stopped" }
  | { outcome: "refused"; askedBy: Author }
  | { outcome: "finished" };

interface Running extends TrackedTurn {
  id: string;
  controller: AbortController;
  done: Promise<void>;
}

export interface TurnTrackerOptions {
  /**
   * Where replicas meet: with a store other processes share, a Stop pressed
   * on another replica reaches the turn through it. Absent: this process only.
   */
  shared?: StateStore;
  /** How often a running turn looks for a Stop pressed elsewhere (ms; default 250). */
  stopPollMs?: number;
  /** The operator's admins (CONFIG_FILE `admins:`), who may stop any answer too. */
  isOperatorAdmin?: (userId: string) => boolean;
}

/** How long a turn's record and a Stop request live in the shared store. */
const SHARED_TTL_MS = 3_600_000;

/**
 * The answers being written right now, on every surface. Work runs detached
 * from the platform's event (Slack and Discord only need an acknowledgement),
 * so /reset needs this list to stop its conversation's answer, a Stop button
 * to stop one answer, and shutdown to wait for, and then end, what is still
 * running.
 */
export class TurnTracker {
  private readonly running = new Map<string, Running>();
  private readonly shared: StateStore | undefined;
  private readonly stopPollMs: number;
  private readonly isOperatorAdmin: (userId: string) => boolean;

  constructor(
    private readonly log: Logger,
    options: TurnTrackerOptions = {},
  ) {
    this.shared = options.shared;
    this.stopPollMs = options.stopPollMs ?? 250;
    this.isOperatorAdmin = options.isOperatorAdmin ?? (() => false);
  }

  /** Turns running now, on one platform or on all. */
  count(platform?: string): number {
    let n = 0;
    for (const r of this.running.values()) if (!platform || r.platform === platform) n++;
    return n;
  }

  /**
   * Runs `work` and tracks it until it ends. `signal` is aborted by a Stop
   * (StoppedError), `stopConversation` (AbortedError) or the end of `drain`
   * (ShutdownError). Resolves when the work ends; a failure is logged, never thrown.
   */
  run(turn: TrackedTurn, work: (signal: AbortSignal, turnId: string) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    const id = turn.id ?? randomUUID();
    const entry: Running = { ...turn, id, controller, done: Promise.resolve() };
    this.running.set(id, entry);
    entry.done = (async () => {
      const watch = this.watchSharedStop(entry);
      try {
        await work(controller.signal, id);
      } catch (err) {
        this.log.error({ err, conversationId: turn.conversationId, platform: turn.platform }, "turn failed");
      } finally {
        this.running.delete(id);
        await watch.stop();
      }
    })();
    return entry.done;
  }

  /**
   * Stop pressed on turn `turnId` by `by`: the asker or an admin stops it (the
   * model request is aborted, the message ends with "Stopped by <name>");
   * anyone else is refused. Works for a turn running on another replica too.
   */
  async stop(turnId: string, by: Presser): Promise<StopOutcome> {
    const local = this.running.get(turnId);
    const askedBy = local ? local.askedBy : ((await this.shared?.get<Author>(turnKey(turnId))) ?? undefined);
    if (!local && !askedBy) return { outcome: "finished" };
    if (askedBy && askedBy.id !== by.id && !by.isAdmin && !this.isOperatorAdmin(by.id))
      return { outcome: "refused", askedBy };
    if (local) local.controller.abort(new StoppedError(by.name));
    else await this.shared?.set(stopKey(turnId), by.name, SHARED_TTL_MS);
    this.log.info({ turnId, by: by.id, remote: !local }, "answer stopped");
    return { outcome: "stopped" };
  }

  /** Stops the conversation's turns (each still ends with its final edit) and waits for them. */
  stopConversation(conversationId: string): Promise<void> {
    return this.abortWhere((id) => id === conversationId);
  }

  /**
   * Stops the turns of every conversation under `prefix` (ids starting with
   * `prefix:`, e.g. a channel's, as ConversationStore.resetScope forgets them)
   * and waits for them.
   */
  stopScope(prefix: string): Promise<void> {
    return this.abortWhere((id) => id.startsWith(`${prefix}:`));
  }

  private async abortWhere(matches: (conversationId: string) => boolean): Promise<void> {
    const mine = [...this.running.values()].filter((r) => matches(r.conversationId));
    for (const r of mine) r.controller.abort(new AbortedError());
    await Promise.all(mine.map((r) => r.done));
  }

  /**
   * Waits up to `graceMs` for the platform's running turns, then ends the rest
   * with ShutdownError (their message ends with the restart note instead of a
   * cursor left forever) and waits for their final edits.
   */
  async drain(platform: string, graceMs: number): Promise<void> {
    const mine = () => [...this.running.values()].filter((r) => r.platform === platform);
    if (mine().length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(mine().map((r) => r.done)), grace]);
    clearTimeout(timer);
    const left = mine();
    for (const r of left) r.controller.abort(new ShutdownError());
    await Promise.all(left.map((r) => r.done));
  }

  /**
   * With a shared store: records who asked (so another replica can check a
   * Stop) and looks for a Stop pressed elsewhere while the turn runs.
   */
  private watchSharedStop(entry: Running): { stop(): Promise<void> } {
    const shared = this.shared;
    if (!shared || !entry.askedBy) return { stop: async () => {} };
    void shared.set(turnKey(entry.id), entry.askedBy, SHARED_TTL_MS).catch(() => undefined);
    const timer = setInterval(() => {
      shared.get<string>(stopKey(entry.id)).then(
        (name) => {
          if (name !== undefined && !entry.controller.signal.aborted)
            entry.controller.abort(new StoppedError(name));
        },
        () => undefined,
      );
    }, this.stopPollMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await shared.delete(turnKey(entry.id)).catch(() => undefined);
      },
    };
  }
}

const turnKey = (id: string) => `turn:${id}`;
const stopKey = (id: string) => `turn:${id}:stop`;
