import type { Limits } from "../config/index.js";

/**
 * The daily limits a place can override (`/chatbot limit user-tokens 20000`),
 * over the operator's `limits:`. A value set at a place is a number, or null
 * for "no limit here"; absent, the wider scope's applies.
 */
export const LIMIT_KEYS = [
  "userDailyTokens",
  "channelDailyTokens",
  "userDailyCost",
  "channelDailyCost",
] as const;

export type LimitKey = (typeof LIMIT_KEYS)[number];

/** The names people type and read, for each limit. */
export const LIMIT_NAMES: Record<LimitKey, string> = {
  userDailyTokens: "user-tokens",
  channelDailyTokens: "channel-tokens",
  userDailyCost: "user-cost",
  channelDailyCost: "channel-cost",
};

export function isCostLimit(key: LimitKey): boolean {
  return key === "userDailyCost" || key === "channelDailyCost";
}

/** `user-tokens` (or `user_daily_tokens`, as in the config file) -> its key. */
export function limitKeyNamed(name: string): LimitKey | undefined {
  const n = name.toLowerCase().replace(/_/g, "-").replace("-daily", "");
  return LIMIT_KEYS.find((k) => LIMIT_NAMES[k] === n);
}

/**
 * A limit as typed: `20000`, `20,000`, `20k`, `1.5m` (tokens), `5`, `$2.50`
 * (cost); `none` (no limit here: null); `clear` (undefined). "bad" otherwise.
 */
export function parseLimitValue(key: LimitKey, word: string): number | null | undefined | "bad" {
  const w = word.trim().toLowerCase();
  if (w === "clear") return undefined;
  if (w === "none" || w === "off" || w === "unlimited") return null;
  const m = /^\$?([0-9][0-9,_]*(?:\.[0-9]+)?)([km]?)$/.exec(w);
  if (!m?.[1]) return "bad";
  const n = Number(m[1].replace(/[,_]/g, "")) * (m[2] === "k" ? 1e3 : m[2] === "m" ? 1e6 : 1);
  if (!Number.isFinite(n) || n <= 0) return "bad";
  return isCostLimit(key) ? n : Math.round(n);
}

/** 12,345 */
export function formatTokens(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** $4.20, $0.011, $0.000045: cents, with more digits below a unit so small sums still differ. */
export function formatMoney(amount: number, currency: string): string {
  const size = Math.abs(amount);
  const digits =
    size !== 0 && size < 0.01
      ? { maximumSignificantDigits: 2 }
      : { minimumFractionDigits: 2, maximumFractionDigits: size < 1 ? 4 : 2 };
  return new Intl.NumberFormat("en-US", { style: "currency", currency, ...digits }).format(amount);
}

/** "50,000 tokens a day", "$5.00 a day", or "none". */
export function describeLimit(key: LimitKey, value: number | undefined, currency: string): string {
  if (value === undefined) return "none";
  return isCostLimit(key) ? `${formatMoney(value, currency)} a day` : `${formatTokens(value)} tokens a day`;
}

/**
 * Whether setting `value` (null: none) at a place lets more be spent than the
 * operator's default allows. Only the operator's admins may: limits bound
 * what the operator pays for.
 */
export function raisesLimit(key: LimitKey, value: number | null, defaults: Limits): boolean {
  const operator = defaults[key];
  if (operator === undefined) return false;
  return value === null || value > operator;
}
