import { systemClock } from "./clock.js";
import type { Clock, EditBudget, EditPriority } from "./types.js";

/** Options of one edit budget. */
export interface EditBudgetOptions {
  /** Requests allowed in any window of `perMs` (Discord: 5 per channel; Slack: 50 per workspace). */
  edits: number;
  /** Length of that window in ms (Discord 5,000; Slack 60,000). */
  perMs: number;
  /** Default: systemClock. */
  clock?: Clock;
  /**
   * Requests of the window that intermediate ("normal") edits may not take, kept
   * for final edits and first posts so a finished stream loses its cursor at once
   * instead of queueing behind running ones. Default: a tenth of `edits`, at
   * least 1 (0 when `edits` is 1).
   */
  reserved?: number;
  /**
   * Extra wait before a request leaves the window (ms): requests reach the
   * platform with varying delay, so one granted the instant the window allows
   * could land inside the platform's window. Default perMs / 50 (100 ms for
   * Discord's 5 s), at most 250.
   */
  marginMs?: number;
  /**
   * The longest a stream's final edit may have to wait for a request of the
   * window, when nothing else waits (ms). Intermediate edits may use the
   * window's reserved requests only where one of them is free again within
   * this long, so the budget spends nearly all of its window while a stream
   * that ends at any moment still loses its cursor within about a round
   * trip. Default perMs / 50 (100 ms for Discord's 5 s), 0: the reserved
   * requests are never used by intermediate edits.
   */
  finalWaitMs?: number;
  /**
   * Least time between a grant (of any priority) and the next "normal" one
   * (ms), so intermediate edits spread evenly over the window, also right
   * after a first post, instead of spending it in a burst and then showing
   * nothing until it slides. Default: the even rate the window allows them,
   * (window + margin - finalWaitMs) / (edits - reserved); 0 turns pacing off.
   */
  paceMs?: number;
}

const TIER: Record<EditPriority, 0 | 1 | 2> = { final: 0, first: 1, normal: 2 };

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  settled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** An array queue with O(1) shift; it compacts itself once half of it is consumed. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  at(index: number): T | undefined {
    return this.items[this.head + index];
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * The edits of one platform scope (a Discord channel, a Slack workspace) as a
 * sliding window: at most `edits` grants in any `perMs`, because that is how the
 * platforms count, and a classic refilling bucket would let a burst plus its
 * refill exceed their limit inside one window.
 *
 * Intermediate ("normal") edits are paced evenly over the window (also right
 * after a first post: no burst), and take its last `reserved` requests only
 * where one is free again within `finalWaitMs`, so a stream that ends at any
 * moment gets its final edit out within about a round trip.
 *
 * Fair share: waiters are served first by priority ("final", then "first", then
 * "normal"), and in arrival order within one priority. A renderer holds at most
 * one waiter per stream and queues again after each request, so streams on one
 * budget take turns (round robin) and a fast stream cannot starve a slow one.
 */
export class TokenBucket implements EditBudget {
  readonly edits: number;
  readonly perMs: number;
  private readonly clock: Clock;
  private readonly reserved: number;
  /** How long a grant counts: the window plus the margin. */
  private readonly holdMs: number;
  private readonly paceMs: number;
  private readonly finalWaitMs: number;
  /** Times of the grants still inside the window, oldest first. */
  private readonly granted = new Fifo<number>();
  private readonly queues = [new Fifo<Waiter>(), new Fifo<Waiter>(), new Fifo<Waiter>()] as const;
  private waiting = 0;
  private pausedUntil = 0;
  private lastGrantAt = Number.NEGATIVE_INFINITY;
  private timerAt = Number.POSITIVE_INFINITY;
  private timerAbort: AbortController | undefined;

  constructor(options: EditBudgetOptions) {
    if (!(options.edits >= 1) || !(options.perMs > 0)) {
      throw new RangeError(
        `an edit budget needs edits >= 1 and perMs > 0 (got ${options.edits}/${options.perMs})`,
      );
    }
    this.edits = Math.floor(options.edits);
    this.perMs = options.perMs;
    this.clock = options.clock ?? systemClock;
    const reserved = options.reserved ?? (this.edits > 1 ? Math.max(1, Math.floor(this.edits / 10)) : 0);
    this.reserved = Math.min(Math.max(0, Math.floor(reserved)), this.edits - 1);
    this.holdMs = this.perMs + Math.max(0, options.marginMs ?? Math.min(250, this.perMs / 50));
    this.finalWaitMs =
      this.reserved > 0 ? Math.min(this.holdMs, Math.max(0, options.finalWaitMs ?? this.perMs / 50)) : 0;
    this.paceMs = Math.max(
      0,
      options.paceMs ??
        Math.max(this.holdMs / this.edits, (this.holdMs - this.finalWaitMs) / (this.edits - this.reserved)),
    );
  }

  acquire(signal?: AbortSignal, priority: EditPriority = "normal"): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, settled: false, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.settled) return;
          // Left in its queue and skipped when reached: removal from the middle would cost O(n).
          waiter.settled = true;
          this.waiting--;
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queues[TIER[priority] ?? 2].push(waiter);
      this.waiting++;
      this.pump();
    });
  }

  pause(ms: number): void {
    const until = this.clock.now() + Math.max(0, ms);
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    if (this.waiting > 0) this.schedule(until);
  }

  /** Requests a "normal" edit could be granted right now. */
  available(): number {
    const now = this.clock.now();
    if (now < this.pausedUntil) return 0;
    this.expire(now);
    return Math.max(0, this.edits - this.reserved - this.granted.length);
  }

  /** Nothing waits, nothing is paused, and no grant happened in the last `forMs` (nor in the window). */
  isIdle(forMs = 0): boolean {
    const now = this.clock.now();
    return (
      this.waiting === 0 && now >= this.pausedUntil && now - this.lastGrantAt >= Math.max(forMs, this.holdMs)
    );
  }

  private expire(now: number): void {
    const oldest = now - this.holdMs;
    while (this.granted.length > 0 && (this.granted.at(0) as number) <= oldest) this.granted.shift();
  }

  private pump(): void {
    const now = this.clock.now();
    if (now < this.pausedUntil) {
      this.schedule(this.pausedUntil);
      return;
    }
    this.expire(now);
    for (let tier = 0; tier < this.queues.length; tier++) {
      const queue = this.queues[tier as 0 | 1 | 2];
      while (queue.length > 0) {
        const waiter = queue.at(0) as Waiter;
        if (waiter.settled) {
          queue.shift();
          continue;
        }
        if (this.granted.length >= this.edits) {
          // The window is full for every tier: lower ones wait too.
          this.schedule((this.granted.at(this.granted.length - this.edits) as number) + this.holdMs);
          return;
        }
        if (tier === 2) {
          const until = this.normalAt(now);
          if (until > now) {
            this.schedule(until);
            return;
          }
        }
        queue.shift();
        waiter.settled = true;
        this.waiting--;
        this.granted.push(now);
        this.lastGrantAt = now;
        if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
        waiter.resolve();
      }
    }
  }

  /**
   * The earliest time a "normal" edit may be granted (the window's own limit
   * aside): paced after the last grant, and leaving a reserved request that a
   * final edit asking at any moment gets within finalWaitMs.
   */
  private normalAt(now: number): number {
    let at = this.lastGrantAt + this.paceMs;
    const kept = this.edits - this.reserved;
    if (this.granted.length >= kept) {
      // With this grant, `kept` grants would count at now + finalWaitMs: wait for the oldest of them to go.
      const oldest = this.granted.at(this.granted.length - kept) as number;
      at = Math.max(at, oldest + this.holdMs - this.finalWaitMs);
    }
    return Math.max(now, at);
  }

  /** One timer per budget, at the earliest time a waiter may be served. */
  private schedule(at: number): void {
    if (at >= this.timerAt) return;
    this.timerAbort?.abort();
    const abort = new AbortController();
    this.timerAbort = abort;
    this.timerAt = at;
    this.clock.sleep(at - this.clock.now(), abort.signal).then(
      () => {
        if (this.timerAbort !== abort) return;
        this.timerAbort = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      () => {},
    );
  }
}

/** Options of a family of budgets, one per scope. */
export interface EditBudgetsOptions extends EditBudgetOptions {
  /** A scope's budget is forgotten after this long without use (ms). Default 10 minutes. */
  idleDropMs?: number;
}

/**
 * One TokenBucket per scope key, created on first use and shared by every stream
 * in that scope (Discord: per channel, 5 per 5,000 ms; Slack: per workspace,
 * 50 per 60,000 ms).
 */
export class EditBudgets {
  private readonly options: EditBudgetOptions;
  private readonly idleDropMs: number;
  private readonly clock: Clock;
  private readonly budgets = new Map<string, TokenBucket>();
  private lastSweepAt: number;

  constructor(options: EditBudgetsOptions) {
    const { idleDropMs, ...budget } = options;
    this.clock = options.clock ?? systemClock;
    this.options = { ...budget, clock: this.clock };
    this.idleDropMs = idleDropMs ?? 600_000;
    this.lastSweepAt = this.clock.now();
    new TokenBucket(this.options); // validates the options once, here
  }

  /** How many scopes have a budget right now. */
  get size(): number {
    return this.budgets.size;
  }

  get(scopeKey: string): TokenBucket {
    let budget = this.budgets.get(scopeKey);
    if (!budget) {
      this.sweep();
      budget = new TokenBucket(this.options);
      this.budgets.set(scopeKey, budget);
    }
    return budget;
  }

  private sweep(): void {
    const now = this.clock.now();
    if (now - this.lastSweepAt < this.idleDropMs) return;
    this.lastSweepAt = now;
    for (const [key, budget] of this.budgets) {
      if (budget.isIdle(this.idleDropMs)) this.budgets.delete(key);
    }
  }
}
