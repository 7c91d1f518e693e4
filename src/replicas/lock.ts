import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import type { AtomicOps } from "../memory/index.js";
import { sleep } from "../sleep.js";

/** A held lock; `release` is safe to call more than once. */
export interface Lease {
  release(): Promise<void>;
  /** True once an extension found the lease taken over (the holder was too slow). */
  readonly lost: boolean;
}

/** One turn at a time per conversation, across every replica sharing a store. */
export interface TurnLock {
  acquire(key: string, signal?: AbortSignal): Promise<Lease>;
}

export interface LeaseLockOptions {
  /** How long a lease lasts without renewal: a crashed holder blocks others at most this long (ms). */
  leaseMs: number;
  /** How often a waiter asks again (ms). */
  pollMs?: number;
  log?: Logger;
}

/**
 * A lease lock in the shared backend: taken with an atomic set-if-absent
 * holding a random token, renewed every third of the lease while the turn
 * runs (so long answers keep it), released only by its holder. If the holder
 * dies, the lease runs out and the next waiter takes it.
 */
export class LeaseLock implements TurnLock {
  private readonly leaseMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly atomic: AtomicOps,
    private readonly options: LeaseLockOptions,
  ) {
    this.leaseMs = options.leaseMs;
    this.pollMs = options.pollMs ?? 50;
  }

  async acquire(key: string, signal?: AbortSignal): Promise<Lease> {
    const lockKey = `lock:${key}`;
    const token = randomUUID();
    let wait = Math.min(10, this.pollMs);
    while (!(await this.atomic.setIfAbsent(lockKey, token, this.leaseMs))) {
      signal?.throwIfAborted();
      await sleep(wait, signal);
      wait = Math.min(wait * 2, this.pollMs);
    }
    let lost = false;
    let released = false;
    const timer = setInterval(
      () => {
        this.atomic.extendIf(lockKey, token, this.leaseMs).then(
          (ok) => {
            if (!ok && !released) {
              lost = true;
              this.options.log?.warn(
                { key },
                "a turn lock lease was lost; another replica may run this conversation",
              );
            }
          },
          (err) => this.options.log?.warn({ err, key }, "could not extend a turn lock lease"),
        );
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    return {
      get lost() {
        return lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.atomic.deleteIf(lockKey, token);
      },
    };
  }
}
