import type { App, SlashCommand } from "@slack/bolt";
import { parseUsageCommand, runUsageCommand } from "../../src/usage/index.js";
import type { SlackDeps } from "./answer.js";
import { answerEphemerally, slackPlace } from "./settings.js";

/**
 * `/usage`: the person's use today and this month, the channel's, and the
 * limits that apply here; `/usage top`: the workspace's busiest users and
 * channels, for workspace admins and owners (users.info) and operator admins.
 * Only the person who asked sees the answer.
 * @see https://api.slack.com/interactivity/slash-commands#responding_to_commands
 */
export function registerUsageCommand(app: App, d: SlackDeps): void {
  app.command("/usage", async ({ command, ack }) => {
    await answerEphemerally(d, command, ack, usageCommand(d, command));
  });
}

async function usageCommand(d: SlackDeps, command: SlashCommand): Promise<string> {
  const team = command.team_id || d.teamId;
  const isDm = command.channel_id.startsWith("D") || command.channel_name === "directmessage";
  const place = slackPlace(team, command.channel_id, isDm);
  const parsed = parseUsageCommand(command.text ?? "");
  try {
    // Only the top lists depend on who is an admin; the rest needs no users.info call.
    const user = parsed.kind === "top" ? await d.api.user(command.user_id) : undefined;
    const actor = {
      id: command.user_id,
      name: user?.name ?? command.user_id,
      isPlatformAdmin: user?.isAdmin,
    };
    return await runUsageCommand(parsed, place, actor, d);
  } catch (err) {
    d.log.error({ err, channel: command.channel_id }, "Slack /usage failed");
    return ":warning: Sorry, I could not read the usage: my memory store failed. Please try again.";
  }
}
