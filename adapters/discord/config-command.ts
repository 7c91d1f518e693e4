import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
} from "discord.js";
import type { Logger } from "../../src/log.js";
import {
  type Access,
  type Actor,
  LIMIT_KEYS,
  LIMIT_NAMES,
  MAX_PROMPT_CHARS,
  onOff,
  type Place,
  type PlaceSettings,
  parseLimitValue,
  runSettingsCommand,
  type SettingsCommand,
} from "../../src/settings/index.js";

const SERVER_OPTION = {
  type: ApplicationCommandOptionType.Boolean,
  name: "server",
  description: "Set the server's default instead of this channel's",
};

const ON_OFF = [
  { name: "on", value: "on" },
  { name: "off", value: "off" },
  { name: "clear (follow the server, then the default)", value: "clear" },
];

/**
 * `/config show | model | prompt | reply-to-all | memory | limit | tools`: the same settings
 * command set as Slack's `/chatbot`. Hidden from members without Manage
 * Server by default (server admins can change that under Integrations), and
 * checked again when used. Discord allows at most 25 choices per option.
 * @see https://discord.com/developers/docs/interactions/application-commands#subcommands-and-subcommand-groups
 * @see https://discord.com/developers/docs/interactions/application-commands#application-command-permissions-object
 */
export function configCommand(models: string[], toolServers: string[] = []) {
  return {
    name: "config",
    description: "Show or change the bot's settings for this channel or server",
    type: ApplicationCommandType.ChatInput,
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "show",
        description: "What applies in this channel and where each value comes from",
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "model",
        description: "Which of the operator's models answers here",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "name",
            description: "A model name, or clear",
            required: true,
            choices: [
              ...models.slice(0, 24).map((m) => ({ name: m, value: m })),
              { name: "clear", value: "clear" },
            ],
          },
          SERVER_OPTION,
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "prompt",
        description: "The system prompt (the bot's persona) here; clear to inherit",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "text",
            description: "The prompt, or clear",
            required: true,
            max_length: MAX_PROMPT_CHARS,
          },
          SERVER_OPTION,
        ],
      },
      ...(["reply-to-all", "memory"] as const).map((name) => ({
        type: ApplicationCommandOptionType.Subcommand,
        name,
        description:
          name === "memory"
            ? "Remember conversations here"
            : "Answer every message in this channel, without a mention",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "value",
            description: "on, off or clear",
            required: true,
            choices: ON_OFF,
          },
          SERVER_OPTION,
        ],
      })),
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: "limit",
        description: "A daily limit here (UTC days), over the operator's",
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: "which",
            description: "Which limit",
            required: true,
            choices: LIMIT_KEYS.map((k) => ({ name: LIMIT_NAMES[k], value: LIMIT_NAMES[k] })),
          },
          {
            type: ApplicationCommandOptionType.String,
            name: "value",
            description: "Tokens (20000, 20k) or cost (2.50) a day; none; or clear",
            required: true,
            max_length: 20,
          },
          SERVER_OPTION,
        ],
      },
      // Only when the operator configured MCP servers: their names are its choices.
      ...(toolServers.length > 0
        ? [
            {
              type: ApplicationCommandOptionType.Subcommand,
              name: "tools",
              description: "Which tool (MCP) servers the bot may use here; without a name: list them",
              options: [
                {
                  type: ApplicationCommandOptionType.String,
                  name: "name",
                  description: "A tool server",
                  required: false,
                  choices: toolServers.slice(0, 25).map((n) => ({ name: n, value: n })),
                },
                {
                  type: ApplicationCommandOptionType.String,
                  name: "value",
                  description: "on, off or clear",
                  required: false,
                  choices: ON_OFF,
                },
                SERVER_OPTION,
              ],
            },
          ]
        : []),
    ],
  };
}

/** Where a command was used, as settings see it: a thread is in its parent channel. */
export function interactionPlace(interaction: ChatInputCommandInteraction): Place {
  const guildId = interaction.guildId;
  const channel = interaction.channel;
  const channelId = channel?.isThread() ? (channel.parentId ?? interaction.channelId) : interaction.channelId;
  return guildId
    ? { platform: "discord", workspace: guildId, channel: channelId }
    : { platform: "discord", workspace: "dm", channel: channelId, isDm: true };
}

/** Who used a command; "admin" is Manage Server in the interaction's permissions. */
export function interactionActor(interaction: ChatInputCommandInteraction): Actor {
  return {
    id: interaction.user.id,
    name:
      interaction.member && "displayName" in interaction.member
        ? interaction.member.displayName
        : interaction.user.displayName,
    isPlatformAdmin: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true,
  };
}

/** The interaction's subcommand and options as the one settings command set. */
function parse(interaction: ChatInputCommandInteraction): SettingsCommand {
  const sub = interaction.options.getSubcommand();
  const scope = interaction.options.getBoolean("server") ? "workspace" : "channel";
  if (sub === "show") return { kind: "show" };
  if (sub === "model" || sub === "prompt") {
    const value = interaction.options.getString(sub === "model" ? "name" : "text", true);
    return {
      kind: "set",
      key: sub,
      value: value.trim().toLowerCase() === "clear" ? undefined : value,
      scope,
    };
  }
  if (sub === "limit") {
    const key = LIMIT_KEYS.find((k) => LIMIT_NAMES[k] === interaction.options.getString("which", true));
    const value = key ? parseLimitValue(key, interaction.options.getString("value", true)) : "bad";
    if (!key || value === "bad")
      return { kind: "help", problem: "Give the limit as a number (20000, 20k, 2.50), none, or clear." };
    return { kind: "set", key, value, scope };
  }
  if (sub === "tools") {
    const server = interaction.options.getString("name") ?? undefined;
    if (!server) return { kind: "tools", scope };
    const value = onOff(interaction.options.getString("value") ?? "");
    if (value === "bad") return { kind: "help", problem: "Say on, off or clear for the tool server." };
    return { kind: "tools", server, ...(value === undefined ? {} : { value }), scope };
  }
  const value = onOff(interaction.options.getString("value", true));
  const key = sub === "memory" ? "memory" : "replyToAll";
  if (value === "bad") return { kind: "help", problem: "Say on, off or clear." };
  return { kind: "set", key, value, scope };
}

/**
 * Runs /config and answers only to the person who used it. "Admin" here is
 * Manage Server in the interaction's permissions (or an operator admin).
 */
export async function handleConfig(
  interaction: ChatInputCommandInteraction,
  deps: { settings: PlaceSettings; access: Access; log: Logger },
): Promise<void> {
  const place = interactionPlace(interaction);
  const channelId = place.channel;
  const actor = interactionActor(interaction);
  let content: string;
  try {
    content = await runSettingsCommand(parse(interaction), place, actor, deps);
  } catch (err) {
    deps.log.error({ err, channelId }, "Discord: /config failed");
    content = "Sorry, I could not read or change the settings: my memory store failed. Please try again.";
  }
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}
