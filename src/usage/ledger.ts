import type { CounterIncrement, Counters, CounterValues } from "../memory/index.js";
import type { Place } from "../settings/index.js";
import { monthSoFar, utcDay, utcMonth } from "./periods.js";

/** Tokens and cost of one turn, as counted. */
export interface TurnUsage {
  /** Every input token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  /** Of the input, read from the provider's prompt cache. */
  cachedInputTokens: number;
  /** Some figure is the tokenizer's count: the provider did not report it. */
  estimated: boolean;
  /** In the operator's currency; absent when the model has no price. */
  cost?: number;
}

/** Who used tokens, where, and with which model (the operator's name for it). */
export interface UsageSubject {
  place: Place;
  userId: string;
  model: string;
}

/** Sums over a day or a month. */
export interface Totals {
  /** Answers counted. */
  turns: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Answers whose figures were (partly) estimated with the tokenizer. */
  estimatedTurns: number;
  cost: number;
}

/** One row of the operator's export: one day of one user, channel, workspace or model. */
export interface UsageRow extends Totals {
  day: string;
  dimension: Dimension;
  /** Absent for models. */
  platform?: string;
  workspace?: string;
  /** The user id, channel id, workspace id or model name. */
  id: string;
}

type Dimension = "user" | "channel" | "workspace" | "model";

/** Stored field names: short, since every turn writes each of them four times. */
const FIELDS: Record<keyof Totals, string> = {
  turns: "turns",
  inputTokens: "in",
  outputTokens: "out",
  cachedInputTokens: "cached",
  estimatedTurns: "est",
  cost: "cost",
};

/** Day counters are kept this long: the export covers the last year. */
const KEEP_MS = 400 * 24 * 3600 * 1000;
const PREFIX = "usage";

export const ZERO: Totals = {
  turns: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  estimatedTurns: 0,
  cost: 0,
};

/** Input plus output: what token limits count. */
export function tokensOf(t: Totals): number {
  return t.inputTokens + t.outputTokens;
}

function totalsOf(values: CounterValues | undefined): Totals {
  const out = { ...ZERO };
  for (const [name, field] of Object.entries(FIELDS)) out[name as keyof Totals] = values?.[field] ?? 0;
  return out;
}

function sum(list: Totals[]): Totals {
  const out = { ...ZERO };
  for (const t of list) for (const name of Object.keys(FIELDS) as Array<keyof Totals>) out[name] += t[name];
  return out;
}

/** Ids are escaped so a key splits back into its parts (an Ollama model is `llama3.2:8b`). */
const part = (s: string) => encodeURIComponent(s);

function key(day: string, dimension: Dimension, ...parts: string[]): string {
  return [PREFIX, day, dimension, ...parts.map(part)].join(":");
}

const dayPrefix = (day: string) => `${PREFIX}:${day}:`;
const monthPrefix = (month: string) => `${PREFIX}:${month}-`;

/** Whether a place has channel counters: a channel, not a DM (there the person's own count is the one). */
export function hasChannel(place: Place): place is Place & { channel: string } {
  return place.channel !== undefined && !place.isDm;
}

/**
 * Usage per UTC day, per user (in one workspace or server), per channel, per
 * workspace and per model, in the store's Counters: one round trip per turn
 * for all of them, atomic across replicas. Months are the sum of their days.
 */
export class UsageLedger {
  constructor(private readonly counters: Counters) {}

  /** Adds one turn; returns that day's totals of the user and the channel after it. */
  async record(s: UsageSubject, usage: TurnUsage, atMs: number): Promise<{ user: Totals; channel?: Totals }> {
    const day = utcDay(atMs);
    const listed = [dayPrefix(day), monthPrefix(utcMonth(atMs))];
    const add: CounterValues = {
      [FIELDS.turns]: 1,
      [FIELDS.inputTokens]: usage.inputTokens,
      [FIELDS.outputTokens]: usage.outputTokens,
      ...(usage.cachedInputTokens > 0 ? { [FIELDS.cachedInputTokens]: usage.cachedInputTokens } : {}),
      ...(usage.estimated ? { [FIELDS.estimatedTurns]: 1 } : {}),
      ...(usage.cost ? { [FIELDS.cost]: usage.cost } : {}),
    };
    const { platform, workspace } = s.place;
    const increment = (k: string): CounterIncrement => ({ key: k, add, ttlMs: KEEP_MS, listedUnder: listed });
    const increments = [
      increment(key(day, "user", platform, workspace, s.userId)),
      increment(key(day, "workspace", platform, workspace)),
      increment(key(day, "model", s.model)),
      ...(hasChannel(s.place) ? [increment(key(day, "channel", platform, workspace, s.place.channel))] : []),
    ];
    const after = await this.counters.add(increments);
    return {
      user: totalsOf(after[0]),
      ...(hasChannel(s.place) ? { channel: totalsOf(after[3]) } : {}),
    };
  }

  /** The user's and the channel's totals of the day of `atMs` (one round trip). */
  async day(place: Place, userId: string, atMs: number): Promise<{ user: Totals; channel?: Totals }> {
    const day = utcDay(atMs);
    const keys = [key(day, "user", place.platform, place.workspace, userId)];
    if (hasChannel(place)) keys.push(key(day, "channel", place.platform, place.workspace, place.channel));
    const [user, channel] = await this.counters.read(keys);
    return { user: totalsOf(user), ...(hasChannel(place) ? { channel: totalsOf(channel) } : {}) };
  }

  /** Today and this month so far for the user, the channel and the workspace (one round trip). */
  async summary(place: Place, userId: string, atMs: number): Promise<Summary> {
    const days = monthSoFar(atMs);
    const { platform, workspace } = place;
    const groups: Array<[keyof Summary, string[]]> = [
      ["user", days.map((d) => key(d, "user", platform, workspace, userId))],
      ["workspace", days.map((d) => key(d, "workspace", platform, workspace))],
    ];
    if (hasChannel(place))
      groups.push(["channel", days.map((d) => key(d, "channel", platform, workspace, place.channel))]);
    const values = await this.counters.read(groups.flatMap(([, keys]) => keys));
    const out: Partial<Summary> = {};
    groups.forEach(([name], g) => {
      const month = values.slice(g * days.length, (g + 1) * days.length).map(totalsOf);
      out[name] = { today: month.at(-1) ?? { ...ZERO }, month: sum(month) };
    });
    return out as Summary;
  }

  /**
   * The users and channels of a workspace (or of every workspace, without
   * `place`) with the most tokens, today or this month, most first.
   */
  async top(place: Place | undefined, period: "day" | "month", atMs: number, n: number): Promise<Top> {
    const prefix = period === "day" ? dayPrefix(utcDay(atMs)) : monthPrefix(utcMonth(atMs));
    const users = new Map<string, Totals[]>();
    const channels = new Map<string, Totals[]>();
    for (const row of (await this.counters.list(prefix)).map((e) => rowOf(e.key, e.values))) {
      if (!row || (place && (row.platform !== place.platform || row.workspace !== place.workspace))) continue;
      const into = row.dimension === "user" ? users : row.dimension === "channel" ? channels : undefined;
      const id = place ? row.id : `${row.platform}:${row.workspace}:${row.id}`;
      into?.set(id, [...(into.get(id) ?? []), row]);
    }
    const ranked = (m: Map<string, Totals[]>) =>
      [...m.entries()]
        .map(([id, list]) => ({ id, totals: sum(list) }))
        .sort((a, b) => tokensOf(b.totals) - tokensOf(a.totals) || (a.id < b.id ? -1 : 1))
        .slice(0, n);
    return { users: ranked(users), channels: ranked(channels) };
  }

  /** Every day counter from `fromDay` to `toDay` (found in `months`), by day and key: the export. */
  async rows(months: string[], fromDay: string, toDay: string): Promise<UsageRow[]> {
    const lists = await Promise.all(months.map((m) => this.counters.list(monthPrefix(m))));
    return lists
      .flat()
      .map((e) => rowOf(e.key, e.values))
      .filter((r): r is UsageRow => r !== undefined && r.day >= fromDay && r.day <= toDay);
  }
}

/** Today's and this month's totals. */
export interface Period {
  today: Totals;
  month: Totals;
}

export interface Summary {
  user: Period;
  workspace: Period;
  /** Absent in DMs and on the web. */
  channel?: Period;
}

export interface Top {
  users: Array<{ id: string; totals: Totals }>;
  channels: Array<{ id: string; totals: Totals }>;
}

function rowOf(k: string, values: CounterValues): UsageRow | undefined {
  const [prefix, day, dimension, ...parts] = k.split(":");
  if (prefix !== PREFIX || !day || !dimension) return undefined;
  const ids = parts.map(decodeURIComponent);
  const totals = totalsOf(values);
  switch (dimension) {
    case "user":
    case "channel":
      return { day, dimension, platform: ids[0], workspace: ids[1], id: ids[2] ?? "", ...totals };
    case "workspace":
      return { day, dimension, platform: ids[0], workspace: ids[1], id: ids[1] ?? "", ...totals };
    case "model":
      return { day, dimension, id: ids[0] ?? "", ...totals };
    default:
      return undefined;
  }
}
