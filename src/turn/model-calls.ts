import { AbortedError, BusyError } from "../errors.js";

/** How many model calls may run at once in this process, and how long a turn may wait for one. */
export interface ModelCallLimits {
  /** Model calls at once across every surface (Slack, Discord, web). */
  maxConcurrent: number;
  /** Longest wait for a free call before the turn is refused with BusyError (ms; 0 = refuse at once). */
  queueTimeoutMs: number;
}

interface Waiter {
  grant: (release: () => void) => void;
  refuse: (err: Error) => void;
}

/**
 * The global cap on concurrent model calls: spend stays bounded whatever
 * arrives on any surface. A turn over the cap waits in arrival order for up
 * to `queueTimeoutMs`, then fails with BusyError, which every surface shows
 * (a warning line on Slack and Discord, 503 with a reason on the web).
 */
export class ModelCallLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly limits: ModelCallLimits) {}

  /** Model calls running now. */
  get active(): number {
    return this.running;
  }

  /** Turns waiting for a call now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the function that gives the call back (call it once, when
   * the model call ends), or rejects with BusyError after the queue timeout,
   * or with `signal`'s reason when the turn is stopped while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    if (this.running < this.limits.maxConcurrent && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    const retryAfterMs = Math.max(1_000, this.limits.queueTimeoutMs);
    if (this.limits.queueTimeoutMs <= 0) return Promise.reject(new BusyError(retryAfterMs));
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = () => waiter.refuse(signal?.reason ?? new AbortedError());
      const timer = setTimeout(() => waiter.refuse(new BusyError(retryAfterMs)), this.limits.queueTimeoutMs);
      timer.unref();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A release for one call: hands it to the first waiter, or frees it. Idempotent. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting[0];
      if (next) next.grant(this.releaser());
      else this.running--;
    };
  }
}
