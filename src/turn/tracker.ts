import { AbortedError, ShutdownError } from "../errors.js";
import type { Logger } from "../log.js";

/** What a tracked turn is about; `platform` is the surface that runs it. */
export interface TrackedTurn {
  conversationId: string;
  platform: string;
}

interface Running extends TrackedTurn {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The answers being written right now, on every surface. Work runs detached
 * from the platform's event (Slack and Discord only need an acknowledgement),
 * so /reset needs this list to stop its conversation's answer and shutdown
 * needs it to wait for, and then end, what is still running.
 */
export class TurnTracker {
  private readonly running = new Set<Running>();

  constructor(private readonly log: Logger) {}

  /** Turns running now, on one platform or on all. */
  count(platform?: string): number {
    let n = 0;
    for (const r of this.running) if (!platform || r.platform === platform) n++;
    return n;
  }

  /**
   * Runs `work` and tracks it until it ends. `signal` is aborted by
   * `stopConversation` (AbortedError) or at the end of `drain` (ShutdownError).
   * Resolves when the work ends; a failure is logged, never thrown.
   */
  run(turn: TrackedTurn, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    const entry: Running = { ...turn, controller, done: Promise.resolve() };
    this.running.add(entry);
    entry.done = (async () => {
      try {
        await work(controller.signal);
      } catch (err) {
        this.log.error({ err, conversationId: turn.conversationId, platform: turn.platform }, "turn failed");
      } finally {
        this.running.delete(entry);
      }
    })();
    return entry.done;
  }

  /** Stops the conversation's turns (each still ends with its final edit) and waits for them. */
  async stopConversation(conversationId: string): Promise<void> {
    const mine = [...this.running].filter((r) => r.conversationId === conversationId);
    for (const r of mine) r.controller.abort(new AbortedError());
    await Promise.all(mine.map((r) => r.done));
  }

  /**
   * Waits up to `graceMs` for the platform's running turns, then ends the rest
   * with ShutdownError (their message ends with the restart note instead of a
   * cursor left forever) and waits for their final edits.
   */
  async drain(platform: string, graceMs: number): Promise<void> {
    const mine = () => [...this.running].filter((r) => r.platform === platform);
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
}
