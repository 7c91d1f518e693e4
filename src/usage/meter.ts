import type { Limits, Price } from "../config/index.js";
import { LimitReachedError } from "../errors.js";
import type { Counters } from "../memory/index.js";
import type { Place } from "../settings/index.js";
import {
  type Summary,
  type Top,
  type TurnUsage,
  UsageLedger,
  type UsageRow,
  type UsageSubject,
} from "./ledger.js";
import { crossed, exhausted, limitStates } from "./limits.js";
import { monthsBetween, nextUtcMidnight, utcDay } from "./periods.js";
import { costOf } from "./prices.js";
import { noticeText, refusalText } from "./texts.js";

export interface UsageMeterOptions {
  /** The store's counters (`store.coordination.counters`), shared by replicas. */
  counters: Counters;
  /** The operator's daily limits (CONFIG_FILE `limits:`); a place's settings may override them. */
  limits?: Limits;
  /** Price per million tokens by the operator's model name (CONFIG_FILE `models[].price`). */
  prices?: Record<string, Price | undefined>;
  /** Of the prices; default USD. */
  currency?: string;
  /** Never refused by a limit (the operator's `admins:`); their use is counted all the same. */
  isExempt?: (userId: string) => boolean;
  /** Injected for tests: when "today" is. */
  now?: () => number;
}

const anyLimit = (limits: Limits) => Object.values(limits).some((v) => v !== undefined);

/**
 * Usage and budgets for turns: counts each turn's tokens and cost per user,
 * channel, workspace and model per UTC day (UsageLedger), refuses a new
 * question once the asker or the channel has used a daily limit, and words
 * the notice an answer carries when it takes a limit past 80 % or 100 %. A
 * turn already running is never cut off.
 */
export class UsageMeter {
  readonly ledger: UsageLedger;
  /** The operator's limits, where a place sets none. */
  readonly defaults: Limits;
  readonly currency: string;
  readonly now: () => number;
  private readonly prices: Record<string, Price | undefined>;
  private readonly isExemptFn: (userId: string) => boolean;

  constructor(options: UsageMeterOptions) {
    this.ledger = new UsageLedger(options.counters);
    this.defaults = options.limits ?? {};
    this.prices = options.prices ?? {};
    this.currency = options.currency ?? "USD";
    this.isExemptFn = options.isExempt ?? (() => false);
    this.now = options.now ?? Date.now;
  }

  /** Some model has a price: cost is counted and shown. */
  get priced(): boolean {
    return Object.values(this.prices).some((p) => p !== undefined);
  }

  isExempt(userId: string): boolean {
    return this.isExemptFn(userId);
  }

  /**
   * Starts a turn's limit check: reads the asker's and the channel's day at
   * once (so the read runs beside the place's settings read), and `admit`
   * throws LimitReachedError, saying when the limit resets, when the asker or
   * the channel has used a daily limit in `limits`. One store read; none when
   * no limit applies or the asker is exempt.
   */
  admission(subject: Omit<UsageSubject, "model">): { admit(limits?: Limits): Promise<void> } {
    const exempt = this.isExempt(subject.userId);
    const read = () => this.ledger.day(subject.place, subject.userId, this.now());
    // The operator's limits apply almost everywhere: read now. Without them, only once a place sets one.
    const early = !exempt && anyLimit(this.defaults) ? read() : undefined;
    early?.catch(() => undefined);
    return {
      admit: async (limits = this.defaults) => {
        if (exempt || !anyLimit(limits)) return;
        const now = this.now();
        const state = exhausted(limitStates(limits, await (early ?? read())));
        if (!state) return;
        const untilResetMs = nextUtcMidnight(now) - now;
        throw new LimitReachedError(refusalText(state, untilResetMs, this.currency), untilResetMs);
      },
    };
  }

  /** The turn's figures with their cost at the model's price. */
  withCost(model: string, figures: Omit<TurnUsage, "cost">): TurnUsage {
    const cost = costOf(figures, this.prices[model]);
    return cost === undefined ? figures : { ...figures, cost };
  }

  /**
   * Counts one turn (one round trip) and returns the notice its answer
   * carries: the line for a limit this turn took past 80 % or 100 %, if any.
   */
  async record(subject: UsageSubject, usage: TurnUsage, limits: Limits = this.defaults): Promise<string[]> {
    const now = this.now();
    const after = await this.ledger.record(subject, usage, now);
    if (this.isExempt(subject.userId)) return [];
    const hit = crossed(limitStates(limits, after, usage));
    return hit ? [noticeText(hit.state, hit.full, nextUtcMidnight(now) - now, this.currency)] : [];
  }

  /** Today and this month, for /usage. */
  summary(place: Place, userId: string): Promise<Summary> {
    return this.ledger.summary(place, userId, this.now());
  }

  /** The top `n` users and channels of `place`'s workspace (every workspace without it), today and this month. */
  async top(place: Place | undefined, n = 10): Promise<{ today: Top; month: Top }> {
    const now = this.now();
    const [today, month] = await Promise.all([
      this.ledger.top(place, "day", now, n),
      this.ledger.top(place, "month", now, n),
    ]);
    return { today, month };
  }

  /** Every day counter from one UTC midnight to another (both days included). */
  rows(fromMs: number, toMs: number): Promise<UsageRow[]> {
    return this.ledger.rows(monthsBetween(fromMs, toMs), utcDay(fromMs), utcDay(toMs));
  }

  /** ms until the daily limits reset (the next UTC midnight). */
  untilReset(): number {
    const now = this.now();
    return nextUtcMidnight(now) - now;
  }
}
