import type { SharedWindows } from "../memory/index.js";
import { sleep } from "../sleep.js";
import type { EditBudget, EditBudgetSource, EditPriority } from "../stream/index.js";

/**
 * Edit budgets shared by every replica through the store's shared windows, so
 * ten replicas do not make ten times the edits a platform allows. Each budget
 * first waits on the local one (fair order and priorities among this
 * replica's streams), then on the shared window.
 */
export class SharedEditBudgets implements EditBudgetSource {
  private readonly budgets = new Map<string, SharedEditBudget>();

  constructor(
    private readonly local: EditBudgetSource,
    private readonly windows: SharedWindows,
    private readonly options: { edits: number; perMs: number; name: string },
  ) {}

  get(scopeKey: string): EditBudget {
    let budget = this.budgets.get(scopeKey);
    if (!budget) {
      const key = `budget:${this.options.name}:${scopeKey}`;
      budget = new SharedEditBudget(this.local.get(scopeKey), this.windows, key, this.options);
      this.budgets.set(scopeKey, budget);
    }
    return budget;
  }
}

class SharedEditBudget implements EditBudget {
  constructor(
    private readonly local: EditBudget,
    private readonly windows: SharedWindows,
    private readonly key: string,
    private readonly options: { edits: number; perMs: number },
  ) {}

  async acquire(signal?: AbortSignal, priority?: EditPriority): Promise<void> {
    await this.local.acquire(signal, priority);
    for (;;) {
      signal?.throwIfAborted();
      let waitMs: number;
      try {
        waitMs = await this.windows.take(this.key, this.options.edits, holdMs(this.options.perMs));
      } catch {
        // The store is unreachable: the local budget alone still keeps this replica within limits.
        return;
      }
      if (!(waitMs > 0)) return;
      await sleep(waitMs, signal);
    }
  }

  pause(ms: number): void {
    this.local.pause(ms);
    void this.windows.pause(this.key, ms).catch(() => undefined);
  }
}

/**
 * How long a grant counts in the shared window: the platform's window plus
 * the local budgets' margin (EditBudgetOptions.marginMs), since the platform
 * counts a request when it arrives, a little after its grant.
 */
function holdMs(perMs: number): number {
  return perMs + Math.min(250, perMs / 20);
}
