import type { Logger } from "../log.js";
import type { Coordination, StateStore } from "../memory/index.js";
import { type EditBudgetSource, EditBudgets } from "../stream/index.js";
import { LeaseLock, type TurnLock } from "./lock.js";
import { CrashRecovery, type RecoveryOptions } from "./recovery.js";
import { SharedEditBudgets } from "./shared-budget.js";

export type { Lease, TurnLock } from "./lock.js";
export { CrashRecovery, type MessageFinisher, type RecoveryOptions } from "./recovery.js";

export interface ReplicasOptions {
  /** How long a crashed replica's turn lock blocks its conversation (ms). */
  lockLeaseMs: number;
  recovery?: RecoveryOptions;
  log?: Logger;
}

/**
 * What lets several processes share one store safely, built from the store's
 * coordination capability: the turn lock (one turn at a time per conversation
 * across processes), edit budgets shared where the store can count them, and
 * crash recovery (messages a dead process left streaming get finished).
 */
export class Replicas {
  /** Undefined for a store only this process uses: its in-process queue is the whole lock. */
  readonly lock: TurnLock | undefined;
  readonly recovery: CrashRecovery;

  constructor(
    state: StateStore,
    private readonly coordination: Coordination,
    options: ReplicasOptions,
  ) {
    this.lock = coordination.shared
      ? new LeaseLock(coordination.atomic, {
          leaseMs: options.lockLeaseMs,
          ...(coordination.waiting ? { waiting: coordination.waiting } : {}),
          log: options.log,
        })
      : undefined;
    this.recovery = new CrashRecovery(state, coordination.atomic, { log: options.log, ...options.recovery });
  }

  /**
   * Budgets of `edits` per `perMs` per scope for platform `name`: drawn from
   * one window shared by every replica when the store can count it, else this
   * process's own. `options` as in EditBudgetOptions (`paceMs: 0`: spend the
   * window as it allows, for callers that pace themselves; `reserved: 0`: no
   * request kept for final edits, for a method that has none).
   */
  budgets(
    name: string,
    edits: number,
    perMs: number,
    options: { paceMs?: number; reserved?: number } = {},
  ): EditBudgetSource {
    const local = new EditBudgets({ edits, perMs, ...options });
    const windows = this.coordination.windows;
    return windows ? new SharedEditBudgets(local, windows, { edits, perMs, name }) : local;
  }
}
