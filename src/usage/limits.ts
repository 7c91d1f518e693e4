import type { Limits } from "../config/index.js";
import type { LimitKey } from "../settings/index.js";
import { type Totals, type TurnUsage, tokensOf } from "./ledger.js";

/** One daily limit that applies, and how much of it is used. */
export interface LimitState {
  key: LimitKey;
  limit: number;
  used: number;
  /** What this turn added to `used` (0 before a turn). */
  added: number;
}

/** The share of a limit from which answers carry a notice. */
export const NOTICE_AT = 0.8;

const MEASURES: Array<[LimitKey, "user" | "channel", (t: Totals) => number, (u: TurnUsage) => number]> = [
  ["userDailyTokens", "user", tokensOf, (u) => u.inputTokens + u.outputTokens],
  ["userDailyCost", "user", (t) => t.cost, (u) => u.cost ?? 0],
  ["channelDailyTokens", "channel", tokensOf, (u) => u.inputTokens + u.outputTokens],
  ["channelDailyCost", "channel", (t) => t.cost, (u) => u.cost ?? 0],
];

/**
 * The limits in `limits` that apply, with the day's totals (`day.channel`
 * absent: no channel limits, as in a DM), the person's first. `turn`: the
 * turn just added to the totals.
 */
export function limitStates(
  limits: Limits,
  day: { user: Totals; channel?: Totals },
  turn?: TurnUsage,
): LimitState[] {
  const out: LimitState[] = [];
  for (const [key, who, measure, added] of MEASURES) {
    const limit = limits[key];
    const totals = day[who];
    if (limit === undefined || !totals) continue;
    out.push({ key, limit, used: measure(totals), added: turn ? added(turn) : 0 });
  }
  return out;
}

/** The first limit already used up, if any: a new question is refused. */
export function exhausted(states: LimitState[]): LimitState | undefined {
  return states.find((s) => s.used >= s.limit);
}

/**
 * The limit this turn carried past 100 % (first), else past 80 %, if any:
 * the one line its answer carries. Exactly one turn crosses each threshold,
 * since the totals come back from the atomic add.
 */
export function crossed(states: LimitState[]): { state: LimitState; full: boolean } | undefined {
  const before = (s: LimitState) => s.used - s.added;
  const full = states.find((s) => s.added > 0 && before(s) < s.limit && s.used >= s.limit);
  if (full) return { state: full, full: true };
  const near = states.find(
    (s) => s.added > 0 && before(s) < NOTICE_AT * s.limit && s.used >= NOTICE_AT * s.limit,
  );
  return near ? { state: near, full: false } : undefined;
}
