import type { Access } from "./access.js";
import {
  describeLimit,
  isCostLimit,
  LIMIT_KEYS,
  LIMIT_NAMES,
  type LimitKey,
  limitKeyNamed,
  parseLimitValue,
  raisesLimit,
} from "./limits.js";
import type { Actor, Place, Scope } from "./place.js";
import type { PlaceSettings, Resolved, SettingKey, Source } from "./settings.js";

/**
 * The one settings command set. Slack's `/chatbot ...` and Discord's
 * `/config ...` are two spellings of it: each adapter parses its platform's
 * form into a SettingsCommand and shows the text `runSettingsCommand` returns.
 */
export type SettingsCommand =
  | { kind: "show" }
  | { kind: "help"; problem?: string }
  /** `value` undefined: clear, so the wider scope's value applies again; null: no limit here. */
  | { kind: "set"; key: SettingKey; value: string | boolean | number | null | undefined; scope: Scope }
  /** One MCP server on or off here (`value` undefined: clear); without `server`: the servers and where each is on. */
  | { kind: "tools"; server?: string; value?: boolean; scope: Scope };

/** The names people type and read (`reply-to-all`), for each setting. */
export const SETTING_NAMES: Record<SettingKey, string> = {
  model: "model",
  prompt: "prompt",
  replyToAll: "reply-to-all",
  memory: "memory",
  tools: "tools",
  ...LIMIT_NAMES,
};

/** The longest prompt a place may set (characters). */
export const MAX_PROMPT_CHARS = 4_000;

const USAGE = [
  "Settings for this channel (add --workspace to set the workspace's default):",
  "• show: what applies here and where each value comes from",
  "• model <name> (or clear): which of the operator's models answers here",
  "• prompt <text> (or clear): the system prompt, the bot's persona here",
  "• reply-to-all on|off|clear: answer every message in this channel, without a mention",
  "• memory on|off|clear: remember conversations here",
  "• limit user-tokens|channel-tokens|user-cost|channel-cost <amount>|none|clear: a daily limit here (UTC days)",
  "• tools <server> on|off|clear: which of the operator's tool (MCP) servers the bot may use here; tools: list them",
].join("\n");

/**
 * Slack's form: the text after `/chatbot`, e.g. `model strong --workspace`,
 * `prompt You are a terse code reviewer.`, `reply-to-all on`.
 */
export function parseSettingsCommand(text: string): SettingsCommand {
  let rest = text.trim();
  let scope: Scope = "channel";
  if (/(^|\s)--workspace(\s|$)/.test(rest)) {
    scope = "workspace";
    rest = rest.replace(/(^|\s)--workspace(?=\s|$)/, " ").trim();
  }
  const [word = "", ...args] = rest.split(/\s+/);
  const arg = rest.slice(word.length).trim();
  switch (word.toLowerCase()) {
    case "":
    case "help":
      return { kind: "help" };
    case "show":
      return { kind: "show" };
    case "model":
      if (!arg) return { kind: "help", problem: "Say which model: `model <name>`, or `model clear`." };
      return { kind: "set", key: "model", value: arg.toLowerCase() === "clear" ? undefined : arg, scope };
    case "prompt":
      if (!arg) return { kind: "help", problem: "Give the prompt: `prompt <text>`, or `prompt clear`." };
      return { kind: "set", key: "prompt", value: arg.toLowerCase() === "clear" ? undefined : arg, scope };
    case "reply-to-all":
    case "memory": {
      const key: SettingKey = word.toLowerCase() === "memory" ? "memory" : "replyToAll";
      const value = onOff(args[0]);
      if (value === "bad" || args.length !== 1)
        return { kind: "help", problem: `Say \`${SETTING_NAMES[key]} on\`, \`off\` or \`clear\`.` };
      return { kind: "set", key, value, scope };
    }
    case "limit": {
      const key = limitKeyNamed(args[0] ?? "");
      const value = key && args.length === 2 ? parseLimitValue(key, args[1] ?? "") : "bad";
      if (!key || value === "bad")
        return {
          kind: "help",
          problem:
            "Say which limit and how much: `limit user-tokens 20000`, `limit channel-cost 5`, `limit user-tokens none` or `clear`.",
        };
      return { kind: "set", key, value, scope };
    }
    case "tools": {
      if (args.length === 0 || args[0] === "") return { kind: "tools", scope };
      const value = onOff(args[1]);
      if (args.length !== 2 || value === "bad")
        return { kind: "help", problem: "Say which server and on, off or clear: `tools <server> on`." };
      return { kind: "tools", server: args[0], ...(value === undefined ? {} : { value }), scope };
    }
    default:
      return { kind: "help", problem: `There is no setting "${word}".` };
  }
}

/** on / off / clear as a setting's value (undefined clears). */
export function onOff(word: string | undefined): boolean | undefined | "bad" {
  const w = (word ?? "").toLowerCase();
  if (w === "on" || w === "true" || w === "yes") return true;
  if (w === "off" || w === "false" || w === "no") return false;
  if (w === "clear") return undefined;
  return "bad";
}

/**
 * Runs a settings command for `actor` in `place` and returns the answer to
 * show them (ephemerally). Only those `access.mayConfigure` allows change
 * anything; anyone may `show`.
 */
export async function runSettingsCommand(
  command: SettingsCommand,
  place: Place,
  actor: Actor,
  deps: { settings: PlaceSettings; access: Access },
): Promise<string> {
  if (command.kind === "help") return command.problem ? `${command.problem}\n\n${USAGE}` : USAGE;
  if (command.kind === "show") return describe(await deps.settings.resolve(place), place, deps.settings);
  if (command.kind === "tools" && command.server === undefined)
    return describeTools(await deps.settings.resolve(place), deps.settings);
  if (!deps.access.mayConfigure(actor)) {
    return "Only workspace or server admins, and the admins the bot's operator listed, can change its settings. Nothing was changed.";
  }
  const scope: Scope = command.scope === "channel" && place.channel && !place.isDm ? "channel" : "workspace";
  if (command.kind === "tools") return setTools(command, place, scope, actor, deps.settings);
  const { key } = command;
  let value = command.value;
  if (key === "model" && typeof value === "string") {
    const models = deps.settings.defaults.models;
    const known = models.find((m) => m.toLowerCase() === value?.toString().toLowerCase());
    if (!known) return `There is no model "${value}". The bot may use: ${models.join(", ") || "none"}.`;
    value = known;
  }
  if (key === "prompt" && typeof value === "string" && value.length > MAX_PROMPT_CHARS) {
    return `That prompt is ${value.length} characters; the most a place may set is ${MAX_PROMPT_CHARS}.`;
  }
  if (isLimit(key)) {
    const refused = limitRefusal(key, value as number | null | undefined, actor, deps);
    if (refused) return refused;
  }
  await deps.settings.set(place, scope, key, value as never, actor);
  const where = scope === "channel" ? `<#${place.channel}>` : "this workspace";
  const name = SETTING_NAMES[key];
  if (value === undefined) return `Cleared ${name} for ${where}: it now follows the wider setting.`;
  const currency = deps.settings.defaults.currency ?? "USD";
  return `Set ${name} for ${where} to ${shown(key, value, currency)}. It applies from the next message.`;
}

/** Turns one server on or off (or clears it) at one scope, keeping the other servers' settings there. */
async function setTools(
  command: { server?: string; value?: boolean },
  place: Place,
  scope: Scope,
  actor: Actor,
  settings: PlaceSettings,
): Promise<string> {
  const names = settings.defaults.toolServers?.names ?? [];
  const server = names.find((n) => n.toLowerCase() === command.server?.toLowerCase());
  if (!server)
    return `There is no tool server "${command.server}". The bot has: ${names.join(", ") || "none"}.`;
  const current = { ...((await settings.at(place, scope)).tools ?? {}) };
  if (command.value === undefined) delete current[server];
  else current[server] = command.value;
  await settings.set(place, scope, "tools", Object.keys(current).length > 0 ? current : undefined, actor);
  const where = scope === "channel" ? `<#${place.channel}>` : "this workspace";
  if (command.value === undefined)
    return `Cleared tools ${server} for ${where}: it now follows the wider setting.`;
  return `Turned tools ${server} ${command.value ? "on" : "off"} for ${where}. It applies from the next message.`;
}

function describeTools(resolved: Resolved, settings: PlaceSettings): string {
  const servers = settings.defaults.toolServers;
  if (!servers || servers.names.length === 0) return "The bot's operator configured no tool servers.";
  const lines = servers.names.map(
    (n) =>
      `• ${n}: ${resolved.tools.includes(n) ? "on" : "off"}${servers.everywhere.includes(n) ? " (enabled everywhere by default)" : ""}`,
  );
  return [`Tool servers here (${FROM[resolved.sources.tools]}):`, ...lines].join("\n");
}

function isLimit(key: SettingKey): key is LimitKey {
  return (LIMIT_KEYS as readonly string[]).includes(key);
}

/** Why this actor may not set this limit here, or undefined when they may. */
function limitRefusal(
  key: LimitKey,
  value: number | null | undefined,
  actor: Actor,
  deps: { settings: PlaceSettings; access: Access },
): string | undefined {
  const { defaults } = deps.settings;
  if (isCostLimit(key) && value !== undefined && !defaults.priced)
    return "No model has a price in the bot's config file, so it counts no cost: a cost limit would never apply. Nothing was changed.";
  if (value === undefined || deps.access.isOperatorAdmin(actor.id)) return undefined;
  if (!raisesLimit(key, value, defaults.limits ?? {})) return undefined;
  const operator = describeLimit(key, defaults.limits?.[key], defaults.currency ?? "USD");
  return `Only the admins the bot's operator listed can set ${LIMIT_NAMES[key]} above the bot's default (${operator}), or to none. Nothing was changed.`;
}

function shown(key: SettingKey, value: string | boolean | number | null, currency: string): string {
  if (isLimit(key)) return describeLimit(key, typeof value === "number" ? value : undefined, currency);
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value !== "string") return String(value);
  return key === "prompt" ? `"${value.length > 200 ? `${value.slice(0, 200)}…` : value}"` : value;
}

const FROM: Record<Source, string> = {
  channel: "set for this channel",
  workspace: "set for the workspace",
  default: "the bot's default",
};

function describe(resolved: Resolved, place: Place, settings: PlaceSettings): string {
  const here = place.channel && !place.isDm ? `<#${place.channel}>` : "here";
  const line = (key: SettingKey, value: string) =>
    `• ${SETTING_NAMES[key]}: ${value} (${FROM[resolved.sources[key]]})`;
  const lines = [
    `Settings in ${here}:`,
    line("model", resolved.model ?? "none configured"),
    line("prompt", shown("prompt", resolved.prompt, "")),
    line("replyToAll", resolved.replyToAll ? "on" : "off"),
    line("memory", resolved.memory ? "on" : "off"),
    line("tools", resolved.tools.join(", ") || "none"),
    ...LIMIT_KEYS.map((key) =>
      line(key, describeLimit(key, resolved.limits[key], settings.defaults.currency ?? "USD")),
    ),
  ];
  if (resolved.unknownModel)
    lines.push(
      `(The model set here, "${resolved.unknownModel}", is no longer offered; the default is used.)`,
    );
  lines.push(`Models the bot may use: ${settings.defaults.models.join(", ") || "none"}.`);
  return lines.join("\n");
}
