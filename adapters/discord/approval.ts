import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type ButtonInteraction,
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type SendableChannels,
} from "discord.js";
import type { Logger } from "../../src/log.js";
import type { ApprovalQuestion, AskApproval } from "../../src/tools/index.js";
import type { Bot } from "../../src/turn/index.js";

/** The arguments shown in the question are cut well before Discord's 2,000 characters. */
const ARGS_SHOWN_CHARS = 1_200;

/** `chatbot:tool:approve:<question id>` (1-100 characters). */
const APPROVAL_ID = /^chatbot:tool:(approve|deny):(.{1,80})$/;

/**
 * How a Discord turn asks its asker to approve a tool that may change things:
 * a message in the channel with Approve and Deny, edited to the outcome (and
 * its buttons taken off) once the question is settled.
 */
export function discordApproval(channel: SendableChannels): AskApproval {
  return async (q) => {
    const message = await channel.send({
      content: questionText(q),
      components: [buttons(q.id)],
      allowedMentions: { users: [q.askerId] },
    });
    return async (outcome) => {
      await message.edit({ content: outcome, components: [] });
    };
  };
}

/**
 * A press on Approve or Deny: only the asker's counts (acknowledged without a
 * reply: the question's edit shows it); anyone else is told so, only them.
 * Returns false when the button is not an approval's.
 */
export async function handleApprovalButton(
  interaction: ButtonInteraction,
  bot: Bot,
  log: Logger,
): Promise<boolean> {
  const m = interaction.customId.match(APPROVAL_ID);
  if (!m) return false;
  const approve = m[1] === "approve";
  const member = interaction.inCachedGuild() ? interaction.member : undefined;
  const name = member?.displayName ?? interaction.user.displayName;
  const result = (await bot.approvals?.answer(m[2] ?? "", interaction.user.id, name, approve)) ?? "unknown";
  log.info({ question: m[2], user: interaction.user.id, approve, result }, "Discord: tool approval pressed");
  if (result === "settled") {
    await interaction.deferUpdate();
    return true;
  }
  await interaction.reply({
    content:
      result === "not-yours"
        ? "Only the person who asked can approve or deny this."
        : "This question is no longer open.",
    flags: MessageFlags.Ephemeral,
  });
  return true;
}

function questionText(q: ApprovalQuestion): string {
  let args = JSON.stringify(q.args);
  if (args.length > ARGS_SHOWN_CHARS) args = `${args.slice(0, ARGS_SHOWN_CHARS)}…`;
  return `🔧 <@${q.askerId}>, may I run **${q.tool}** (${q.server})? It may change things.\n\`\`\`json\n${args}\n\`\`\``;
}

/** @see https://discord.com/developers/docs/components/reference#button */
function buttons(id: string): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Success,
        label: "Approve",
        custom_id: `chatbot:tool:approve:${id}`,
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Danger,
        label: "Deny",
        custom_id: `chatbot:tool:deny:${id}`,
      },
    ],
  };
}
