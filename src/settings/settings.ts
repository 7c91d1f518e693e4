import type { Limits } from "../config/index.js";
import type { Logger } from "../log.js";
import type { StateStore } from "../memory/index.js";
import { LIMIT_KEYS, type LimitKey } from "./limits.js";
import { type Actor, type Place, type Scope, scopeKey } from "./place.js";

/** What can be set per place. Absent: inherited from the wider scope, then the operator's default. */
export interface SettingValues {
  /** A model name from the operator's list. */
  model?: string;
  /** The system prompt (persona) used there. */
  prompt?: string;
  /** Answer every message in the channel, without a mention (a channel made for the bot). */
  replyToAll?: boolean;
  /** Keep memory: false answers each message on its own and stores nothing. */
  memory?: boolean;
  /** Daily limits over the operator's (src/settings/limits.ts); null: no limit here. */
  userDailyTokens?: number | null;
  channelDailyTokens?: number | null;
  userDailyCost?: number | null;
  channelDailyCost?: number | null;
  /** MCP servers turned on (true) or off (false) here, by name; a server not named follows the wider scope. */
  tools?: Record<string, boolean>;
}

export type SettingKey = keyof SettingValues;

/** Where a value in effect comes from. */
export type Source = "channel" | "workspace" | "default";

/** The settings in effect in one place, and where each comes from. */
export interface Resolved {
  model: string | undefined;
  prompt: string;
  replyToAll: boolean;
  memory: boolean;
  /** The daily limits in effect here (the place's, else the operator's); absent: none. */
  limits: Limits;
  /** The MCP servers the model may use here: on here, else on for the workspace, else enabled everywhere. */
  tools: string[];
  sources: Record<SettingKey, Source>;
  /** A model set for this place that the operator no longer lists (the default is used instead). */
  unknownModel?: string;
}

/** The operator's defaults: what applies where nothing is set. */
export interface Defaults {
  /** The default model's name; undefined when no model is configured. */
  model: string | undefined;
  prompt: string;
  /** The names a setting may choose from. */
  models: string[];
  /** The operator's daily limits (CONFIG_FILE `limits:`); default none. */
  limits?: Limits;
  /** The currency prices and cost limits are in (CONFIG_FILE `currency:`); default USD. */
  currency?: string;
  /** Some model has a price, so cost is counted (and cost limits can apply). */
  priced?: boolean;
  /** The MCP servers configured, and those enabled everywhere (`enabled_everywhere`); default none. */
  toolServers?: { names: string[]; everywhere: string[] };
}

/** Settings outlive conversations; the store wants an expiry, so a long one. */
const KEEP_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Per-place settings in the store (survive restarts, shared by replicas).
 * Resolving a place reads its channel and workspace records in one round
 * trip, whatever the number of settings. Every change is logged as an audit
 * line: who, where, what, old -> new.
 */
export class PlaceSettings {
  constructor(
    private readonly state: StateStore,
    readonly defaults: Defaults,
    private readonly log: Logger,
  ) {}

  async resolve(place: Place): Promise<Resolved> {
    const keys = place.channel
      ? [scopeKey(place, "channel"), scopeKey(place, "workspace")]
      : [scopeKey(place, "workspace")];
    const records = await this.state.getMany<SettingValues>(keys);
    const channel = place.channel ? (records[0] ?? {}) : {};
    const workspace = (place.channel ? records[1] : records[0]) ?? {};
    const pick = <K extends SettingKey>(key: K): [SettingValues[K], Source] =>
      channel[key] !== undefined
        ? [channel[key], "channel"]
        : workspace[key] !== undefined
          ? [workspace[key], "workspace"]
          : [undefined, "default"];
    const [model, modelFrom] = pick("model");
    const [prompt, promptFrom] = pick("prompt");
    const [replyToAll, replyFrom] = pick("replyToAll");
    const [memory, memoryFrom] = pick("memory");
    const known = model === undefined || this.defaults.models.includes(model);
    const limits: Limits = {};
    const limitSources = {} as Record<LimitKey, Source>;
    for (const key of LIMIT_KEYS) {
      const [value, from] = pick(key);
      limitSources[key] = from;
      const applies = value === undefined ? this.defaults.limits?.[key] : (value ?? undefined);
      if (applies !== undefined) limits[key] = applies;
    }
    const servers = this.defaults.toolServers;
    const tools = (servers?.names ?? []).filter(
      (name) =>
        channel.tools?.[name] ?? workspace.tools?.[name] ?? servers?.everywhere.includes(name) ?? false,
    );
    return {
      model: known ? (model ?? this.defaults.model) : this.defaults.model,
      prompt: prompt ?? this.defaults.prompt,
      replyToAll: replyToAll ?? false,
      memory: memory ?? true,
      limits,
      tools,
      sources: {
        ...limitSources,
        tools: channel.tools ? "channel" : workspace.tools ? "workspace" : "default",
        model: known ? modelFrom : "default",
        prompt: promptFrom,
        replyToAll: replyFrom,
        memory: memoryFrom,
      },
      ...(known ? {} : { unknownModel: model }),
    };
  }

  /** The values set at one scope of a place (nothing inherited). */
  async at(place: Place, scope: Scope): Promise<SettingValues> {
    return (await this.state.get<SettingValues>(scopeKey(place, scope))) ?? {};
  }

  /**
   * Sets (or, with `value` undefined, clears) one setting at one scope of a
   * place. The caller checked the actor may; this logs the audit line.
   */
  async set<K extends SettingKey>(
    place: Place,
    scope: Scope,
    key: K,
    value: SettingValues[K] | undefined,
    actor: Actor,
  ): Promise<void> {
    const storeKey = scopeKey(place, scope);
    const before = (await this.state.get<SettingValues>(storeKey)) ?? {};
    const after: SettingValues = { ...before };
    if (value === undefined) delete after[key];
    else after[key] = value;
    if (Object.keys(after).length === 0) await this.state.delete(storeKey);
    else await this.state.set(storeKey, after, KEEP_MS);
    this.log.info(
      {
        audit: {
          who: { id: actor.id, name: actor.name },
          where: {
            platform: place.platform,
            workspace: place.workspace,
            scope,
            ...(scope === "channel" ? { channel: place.channel } : {}),
          },
          what: key,
          // A limit set to "none" is stored as null; the audit line says so rather than look cleared.
          old: before[key] === null ? "none" : (before[key] ?? null),
          new: value === null ? "none" : (value ?? null),
        },
      },
      `settings: ${actor.name} set ${key} for the ${scope}`,
    );
  }
}
