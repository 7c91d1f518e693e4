import type { Limits } from "../config/index.js";
import {
  describeLimit,
  formatMoney,
  formatTokens,
  isCostLimit,
  LIMIT_KEYS,
  LIMIT_NAMES,
  type LimitKey,
  type Place,
} from "../settings/index.js";
import { type Period, type Summary, type Top, type Totals, tokensOf } from "./ledger.js";
import { type LimitState, limitStates } from "./limits.js";
import { describeWait } from "./periods.js";

/**
 * What people read about usage: the notice under an answer, the refusal of a
 * question, and /usage. Plain text with `<#channel>` and `<@user>`, which
 * Slack and Discord both show as names (and an ephemeral answer pings nobody).
 */

const isUserLimit = (key: LimitKey) => key === "userDailyTokens" || key === "userDailyCost";

function amount(key: LimitKey, n: number, currency: string): string {
  return isCostLimit(key) ? formatMoney(n, currency) : `${formatTokens(n)} tokens`;
}

function resets(untilResetMs: number): string {
  return `00:00 UTC, in ${describeWait(untilResetMs)}`;
}

/** The sentence a refused question gets: whose limit, how much, and when it resets. */
export function refusalText(state: LimitState, untilResetMs: number, currency: string): string {
  const limit = amount(state.key, state.limit, currency);
  return isUserLimit(state.key)
    ? `You have used your daily limit of ${limit} here, so I can't answer this now. It resets at ${resets(untilResetMs)}.`
    : `This channel has used its daily limit of ${limit}, so I can't answer here now. It resets at ${resets(untilResetMs)}.`;
}

/** The one line under an answer that took a limit past 80 % (or 100 %). */
export function noticeText(state: LimitState, full: boolean, untilResetMs: number, currency: string): string {
  const of = `${amount(state.key, state.used, currency)} of ${amount(state.key, state.limit, currency)}`;
  const percent = Math.floor((100 * state.used) / state.limit);
  const mine = isUserLimit(state.key);
  if (full)
    return mine
      ? `_You have now used your daily limit (${of}): new questions wait until ${resets(untilResetMs)}._`
      : `_This channel has now used its daily limit (${of}): new questions here wait until ${resets(untilResetMs)}._`;
  return mine
    ? `_You have used ${percent} % of your daily limit (${of}); it resets at ${resets(untilResetMs)}._`
    : `_This channel has used ${percent} % of its daily limit (${of}); it resets at ${resets(untilResetMs)}._`;
}

const answers = (n: number) => `${n} ${n === 1 ? "answer" : "answers"}`;

function totalsLine(label: string, t: Totals, currency: string, priced: boolean): string {
  if (t.turns === 0) return `• ${label}: nothing yet`;
  const cost = priced ? ` · ${formatMoney(t.cost, currency)}` : "";
  return `• ${label}: ${formatTokens(tokensOf(t))} tokens (${formatTokens(t.inputTokens)} in, ${formatTokens(t.outputTokens)} out) in ${answers(t.turns)}${cost}`;
}

function periodLines(title: string, p: Period, currency: string, priced: boolean): string[] {
  return [
    title,
    totalsLine("today", p.today, currency, priced),
    totalsLine("this month", p.month, currency, priced),
  ];
}

export interface UsageTextOptions {
  place: Place;
  summary: Summary;
  /** The limits in effect in this place. */
  limits: Limits;
  /** The asker is one of the operator's admins: no limit refuses them. */
  exempt: boolean;
  untilResetMs: number;
  currency: string;
  /** Some model has a price: show cost. */
  priced: boolean;
}

/** /usage: the asker's use today and this month, the channel's, and the limits that apply here. */
export function usageText(o: UsageTextOptions): string {
  const { summary, currency, priced } = o;
  const lines = periodLines("Your use here:", summary.user, currency, priced);
  if (summary.channel && o.place.channel)
    lines.push(...periodLines(`This channel (<#${o.place.channel}>):`, summary.channel, currency, priced));
  const states = limitStates(o.limits, {
    user: summary.user.today,
    ...(summary.channel ? { channel: summary.channel.today } : {}),
  });
  const set = LIMIT_KEYS.filter((k) => o.limits[k] !== undefined && (summary.channel || isUserLimit(k)));
  if (set.length === 0) lines.push("No daily limit applies here.");
  else {
    lines.push("Daily limits here:");
    for (const key of set) {
      const state = states.find((s) => s.key === key);
      const used = state ? ` (${Math.floor((100 * state.used) / state.limit)} % used today)` : "";
      lines.push(`• ${LIMIT_NAMES[key]}: ${describeLimit(key, o.limits[key], currency)}${used}`);
    }
    if (o.exempt)
      lines.push("You are one of the bot's operator admins: your own questions are never refused.");
    lines.push(`Days end at ${resets(o.untilResetMs)}.`);
  }
  if (summary.user.month.estimatedTurns > 0)
    lines.push(
      `(${summary.user.month.estimatedTurns} of your answers this month were counted with a tokenizer: their model reported no usage.)`,
    );
  return lines.join("\n");
}

function ranked(
  title: string,
  list: Top["users"],
  mention: (id: string) => string,
  currency: string,
  priced: boolean,
): string[] {
  if (list.length === 0) return [title, "• nobody yet"];
  return [
    title,
    ...list.map(
      (e, i) =>
        `${i + 1}. ${mention(e.id)}: ${formatTokens(tokensOf(e.totals))} tokens in ${answers(e.totals.turns)}${priced ? ` · ${formatMoney(e.totals.cost, currency)}` : ""}`,
    ),
  ];
}

/** /usage top: the busiest users and channels of the workspace, today and this month. */
export function topText(today: Top, month: Top, currency: string, priced: boolean): string {
  const user = (id: string) => `<@${id}>`;
  const channel = (id: string) => `<#${id}>`;
  return [
    ...ranked("Top users here today:", today.users, user, currency, priced),
    ...ranked("Top channels today:", today.channels, channel, currency, priced),
    ...ranked("Top users this month:", month.users, user, currency, priced),
    ...ranked("Top channels this month:", month.channels, channel, currency, priced),
  ].join("\n");
}

/** A non-admin asked for the top lists. */
export const TOP_FOR_ADMINS =
  "Only workspace or server admins, and the admins the bot's operator listed, can see the top users and channels.";
