import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import type { AtomicOps, WaitingLists } from "../memory/index.js";
import { sleep } from "../sleep.js";

/** A held lock; `release` is safe to call more than once. */
export interface Lease {
  release(): Promise<void>;
  /** True once a renewal found the lease taken over by another holder (this one was too slow). */
  readonly lost: boolean;
}

/** One turn at a time per conversation, across every replica sharing a store. */
export interface TurnLock {
  /** True when waiters get the lock in their messages' order, this process's own waiters too. */
  readonly ordered?: boolean;
  /**
   * Resolves once the caller holds `key`. `order`: when the message arrived
   * (ms since 1970, the platform's own time: Slack's ts, a Discord snowflake's
   * time); waiters on every replica get the lock in that
   * order. Without it: as if it arrived now (the web: its receipt), with no settle.
   */
  acquire(key: string, signal?: AbortSignal, order?: number, onQueued?: () => void): Promise<Lease>;
}

export interface LeaseLockOptions {
  /**
   * How long a lease lasts without renewal (ms): a crashed holder blocks
   * others at most this long. It is renewed every quarter of it, so an event
   * loop may stall for about three quarters of it before the lease can go.
   */
  leaseMs: number;
  /** How often a waiter asks again (ms; default 50). */
  pollMs?: number;
  /** The shared waiting lists that put waiters in arrival order; absent: whoever asks first after a release. */
  waiting?: WaitingLists;
  /**
   * How long after its arrival a message waits for earlier ones still on
   * their way to another replica before it takes a free lock (ms; default
   * 250; a message that reached us later than that waits no more).
   */
  settleMs?: number;
  log?: Logger;
}

/**
 * A lease lock in the shared backend: taken with an atomic set-if-absent
 * holding a random token, renewed every quarter of the lease while the turn
 * runs (so long answers keep it), released only by its holder. If the holder
 * dies, the lease runs out and the next waiter takes it. With waiting lists,
 * waiters queue in the backend by their message's arrival, and only the
 * first of the queue may take the lock.
 */
export class LeaseLock implements TurnLock {
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly settleMs: number;
  readonly ordered: boolean;

  constructor(
    private readonly atomic: AtomicOps,
    private readonly options: LeaseLockOptions,
  ) {
    this.leaseMs = options.leaseMs;
    this.pollMs = options.pollMs ?? 50;
    this.settleMs = options.settleMs ?? 250;
    this.ordered = options.waiting !== undefined;
  }

  /** `onQueued`: called once the waiter has its place in the shared line. */
  async acquire(key: string, signal?: AbortSignal, order?: number, onQueued?: () => void): Promise<Lease> {
    const lockKey = `lock:${key}`;
    const token = randomUUID();
    // Without a platform's time (the web, a Regenerate press) a turn queues as arriving now,
    // and waits for no earlier message on its way: nothing tells it of one.
    if (this.options.waiting)
      await this.waitInLine(key, token, order ?? Date.now(), order !== undefined, signal, onQueued);
    else await this.waitFree(lockKey, token, signal);
    return this.hold(key, lockKey, token);
  }

  /** Whoever finds the lock free first takes it. */
  private async waitFree(lockKey: string, token: string, signal?: AbortSignal): Promise<void> {
    let wait = Math.min(10, this.pollMs);
    while (!(await this.atomic.setIfAbsent(lockKey, token, this.leaseMs))) {
      signal?.throwIfAborted();
      await sleep(wait, signal);
      wait = Math.min(wait * 2, this.pollMs);
    }
  }

  /**
   * Waits in the conversation's shared list at `order` (renewing the place at
   * each ask, so a dead waiter drops out) until first in it, past the settle
   * time, with the lock free.
   */
  private async waitInLine(
    key: string,
    token: string,
    order: number,
    settle: boolean,
    signal?: AbortSignal,
    onQueued?: () => void,
  ): Promise<void> {
    const waiting = this.options.waiting as WaitingLists;
    const listKey = `turns:${key}`;
    const settleMs = settle ? this.settleMs : 0;
    const settleUntil = Date.now() + Math.min(settleMs, Math.max(0, order + settleMs - Date.now()));
    let wait = Math.min(10, this.pollMs);
    try {
      for (;;) {
        signal?.throwIfAborted();
        const first = (await waiting.join(listKey, token, order, this.leaseMs)) === token;
        onQueued?.();
        onQueued = undefined;
        const settling = settleUntil - Date.now();
        if (first && settling <= 0 && (await this.atomic.setIfAbsent(`lock:${key}`, token, this.leaseMs)))
          return;
        await sleep(first && settling > 0 ? settling : wait, signal);
        wait = Math.min(wait * 2, this.pollMs);
      }
    } finally {
      await waiting.leave(listKey, token).catch(() => undefined);
    }
  }

  private hold(key: string, lockKey: string, token: string): Lease {
    let lost = false;
    let released = false;
    const renew = async () => {
      if (released || (await this.atomic.extendIf(lockKey, token, this.leaseMs))) return;
      // A stall outlasted the lease: it is still ours if nobody took it meanwhile.
      const retaken = !released && (await this.atomic.setIfAbsent(lockKey, token, this.leaseMs));
      if (released) {
        if (retaken) await this.atomic.deleteIf(lockKey, token);
        return;
      }
      if (retaken) return;
      lost = true;
      this.options.log?.warn(
        { key },
        "a turn lock lease was lost; another replica may run this conversation",
      );
    };
    const timer = setInterval(
      () =>
        void renew().catch((err) =>
          this.options.log?.warn({ err, key }, "could not extend a turn lock lease"),
        ),
      Math.max(10, Math.floor(this.leaseMs / 4)),
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
