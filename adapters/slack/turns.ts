import type { Logger } from "../../src/log.js";

/**
 * The answers being streamed right now. Work runs detached from Bolt's
 * listener (Slack only needs the ack), so shutdown needs this list to wait
 * for, and to stop, what is still running.
 */
export class TurnTracker {
  private readonly running = new Map<Promise<void>, AbortController>();

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.running.size;
  }

  /** Starts `work` in the background; its failure is logged, never thrown. */
  run(work: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    const task: Promise<void> = work(controller.signal)
      .catch((err: unknown) => this.log.error({ err }, "Slack turn failed"))
      .finally(() => this.running.delete(task));
    this.running.set(task, controller);
  }

  /**
   * Resolves when every running turn has ended. Turns still running after
   * `graceMs` are aborted: their message gets its final edit (partial text
   * and a short warning) instead of a cursor left forever.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.running.keys()]), grace]);
    clearTimeout(timer);
    for (const controller of this.running.values()) controller.abort(new Error("shutting down"));
    await Promise.allSettled([...this.running.keys()]);
  }
}
