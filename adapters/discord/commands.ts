import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  type ChatInputCommandInteraction,
  DiscordAPIError,
  InteractionContextType,
  MessageFlags,
  type REST,
  Routes,
} from "discord.js";
import type { Logger } from "../../src/log.js";
import { configCommand } from "./config-command.js";
import { channelScope, dmConversation, threadConversation } from "./places.js";
import { USAGE_COMMAND } from "./usage-command.js";

/** /reset. Globally it works in servers and in DMs with the bot. */
export const RESET_COMMAND = {
  name: "reset",
  description: "Forget the conversation here (this DM, channel or thread) and start over",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
};

type CommandBody = {
  name: string;
  description: string;
  type: number;
  contexts?: number[];
  integration_types?: number[];
  default_member_permissions?: string | null;
  options?: unknown[];
};

/** A guild command exists only in its guild; contexts and install types do not apply. */
function inGuild(command: CommandBody): CommandBody {
  const { contexts: _contexts, integration_types: _types, ...rest } = command;
  return rest;
}

/**
 * Answered within this time or deferred, well inside Discord's 3 s for the first response.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
 */
const ANSWER_WITHIN_MS = 1_500;

export const RESET_DONE = "Done: I forgot our conversation here. Your next message starts a fresh one.";
export const RESET_FAILED = "Sorry, I could not forget this conversation. Please try again.";

/**
 * Registers /reset, /config (its model choices: `models`; its tools choices: `toolServers`) and /usage globally, and in
 * `guildId` when set (guild commands show up at once, global ones can take a
 * while). Each list is written only when what Discord has differs, so
 * restarts do not churn command versions.
 */
export async function registerCommands(
  rest: REST,
  applicationId: string,
  guildId: string | undefined,
  models: string[],
  log: Logger,
  toolServers: string[] = [],
): Promise<void> {
  const commands: CommandBody[] = [RESET_COMMAND, configCommand(models, toolServers), USAGE_COMMAND];
  await sync(rest, Routes.applicationCommands(applicationId), commands, "global", log);
  if (guildId) {
    await sync(
      rest,
      Routes.applicationGuildCommands(applicationId, guildId),
      commands.map(inGuild),
      guildId,
      log,
    );
  }
}

async function sync(
  rest: REST,
  route: `/${string}`,
  wanted: CommandBody[],
  scope: string,
  log: Logger,
): Promise<void> {
  try {
    const existing = (await rest.get(route)) as CommandBody[];
    if (sameCommands(existing, wanted)) {
      log.debug({ scope }, "Discord: /reset, /config and /usage are already registered");
      return;
    }
    await rest.put(route, { body: wanted });
    log.info({ scope }, "Discord: registered /reset, /config and /usage");
  } catch (err) {
    const missingAccess = err instanceof DiscordAPIError && Number(err.code) === 50001;
    log.warn(
      { scope, err },
      missingAccess
        ? "Discord: could not register its commands here: invite the bot with the applications.commands scope (see the invite URL), and check DISCORD_GUILD_ID"
        : "Discord: could not register its commands",
    );
  }
}

function sameSet(a: readonly number[] | null | undefined, b: readonly number[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Compares only the fields we set; Discord fills in the rest (ids, versions, defaults). */
export function sameCommands(existing: CommandBody[], wanted: CommandBody[]): boolean {
  if (existing.length !== wanted.length) return false;
  return wanted.every((w) => {
    const e = existing.find((c) => c.name === w.name);
    if (!e || (e.type ?? 1) !== w.type || e.description !== w.description) return false;
    if (JSON.stringify(optionsOf(e.options)) !== JSON.stringify(optionsOf(w.options))) return false;
    if ((e.default_member_permissions ?? null) !== (w.default_member_permissions ?? null)) return false;
    if (w.contexts && !sameSet(e.contexts, w.contexts)) return false;
    if (w.integration_types && !sameSet(e.integration_types, w.integration_types)) return false;
    return true;
  });
}

/** Options as we set them (Discord adds localizations, defaults and nulls when it answers). */
function optionsOf(options: unknown[] | undefined): unknown[] {
  return (options ?? []).map((o) => {
    const {
      type,
      name,
      description,
      required,
      choices,
      max_length,
      options: nested,
    } = o as Record<string, unknown>;
    return {
      type,
      name,
      description,
      required: required === true,
      choices: ((choices as Array<{ name: string; value: unknown }> | undefined) ?? []).map((c) => [
        c.name,
        c.value,
      ]),
      max_length: max_length ?? null,
      options: optionsOf(nested as unknown[] | undefined),
    };
  });
}

/**
 * What /reset forgets where it is used: the DM's or thread's conversation;
 * in a plain channel, every conversation of that channel (`scope`). In a
 * server both are given, so the thread-or-channel question needs no cache.
 */
export interface ResetPlace {
  conversationId: string;
  scope?: string;
}

/**
 * /reset: stops the running answers in this place, forgets its conversations
 * and answers only to the person who asked. If forgetting takes long the answer
 * is deferred first, so Discord never shows "The application did not respond".
 */
export async function handleReset(
  interaction: ChatInputCommandInteraction,
  forget: (place: ResetPlace) => Promise<void>,
  log: Logger,
): Promise<void> {
  const { guildId, channelId } = interaction;
  const place: ResetPlace = guildId
    ? { conversationId: threadConversation(guildId, channelId), scope: channelScope(guildId, channelId) }
    : { conversationId: dmConversation(channelId) };
  const { conversationId } = place;
  let ok = true;
  const forgetting = forget(place).catch((err: unknown) => {
    ok = false;
    log.error({ err, conversationId }, "Discord: /reset failed");
  });
  let timer: NodeJS.Timeout | undefined;
  const slow = await Promise.race([
    forgetting.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ANSWER_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  if (slow) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await forgetting;
    await interaction.editReply({ content: ok ? RESET_DONE : RESET_FAILED });
  } else {
    await interaction.reply({ content: ok ? RESET_DONE : RESET_FAILED, flags: MessageFlags.Ephemeral });
  }
  if (ok) log.info({ ...place, deferred: slow }, "Discord: conversation reset");
}
