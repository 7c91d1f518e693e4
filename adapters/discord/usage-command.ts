import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
} from "discord.js";
import type { Logger } from "../../src/log.js";
import type { Access, PlaceSettings } from "../../src/settings/index.js";
import { runUsageCommand, type UsageMeter } from "../../src/usage/index.js";
import { interactionActor, interactionPlace } from "./config-command.js";

/**
 * `/usage` (and `/usage top:True` for server admins): the same command set as
 * Slack's `/usage`. Everyone may use it, in servers and in DMs with the bot.
 * @see https://discord.com/developers/docs/interactions/application-commands#application-command-object
 */
export const USAGE_COMMAND = {
  name: "usage",
  description: "Your use of the bot today and this month, this channel's, and the limits here",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    {
      type: ApplicationCommandOptionType.Boolean,
      name: "top",
      description: "The busiest users and channels of this server instead (server admins)",
    },
  ],
};

/** Runs /usage and answers only to the person who used it, pinging nobody. */
export async function handleUsage(
  interaction: ChatInputCommandInteraction,
  deps: { usage: UsageMeter; settings: PlaceSettings; access: Access; log: Logger },
): Promise<void> {
  const command = interaction.options.getBoolean("top")
    ? { kind: "top" as const }
    : { kind: "mine" as const };
  let content: string;
  try {
    content = await runUsageCommand(
      command,
      interactionPlace(interaction),
      interactionActor(interaction),
      deps,
    );
  } catch (err) {
    deps.log.error({ err, channelId: interaction.channelId }, "Discord: /usage failed");
    content = "Sorry, I could not read the usage: my memory store failed. Please try again.";
  }
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}
