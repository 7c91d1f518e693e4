import type { App, RespondArguments, SlashCommand } from "@slack/bolt";
import { type Place, parseSettingsCommand, runSettingsCommand } from "../../src/settings/index.js";
import type { SlackDeps } from "./answer.js";

/** Answered within this time, or acknowledged first and answered ephemerally after. */
const ACK_WITHIN_MS = 2_000;

/** The place settings and access see for a Slack channel (a thread is in its channel). */
export function slackPlace(team: string, channel: string, isDm: boolean): Place {
  return { platform: "slack", workspace: team, channel, isDm };
}

/**
 * `/chatbot show | model <name> | prompt <text> | reply-to-all on|off |
 * memory on|off`, with `--workspace` for the workspace default. Slack runs
 * slash commands outside threads only, so a command sets its channel. The
 * answer is ephemeral; Slack needs the ack within 3 s.
 * @see https://api.slack.com/interactivity/slash-commands#responding_to_commands
 */
export function registerSettingsCommand(app: App, d: SlackDeps): void {
  app.command("/chatbot", async ({ command, ack }) => {
    await answerEphemerally(d, command, ack, settingsCommand(d, command));
  });
}

/**
 * Answers a slash command only to the person who used it: in the ack when
 * the answer is ready within ACK_WITHIN_MS, else acknowledged at once and
 * answered with chat.postEphemeral, since Slack needs the ack within 3 s.
 */
export async function answerEphemerally(
  d: SlackDeps,
  command: SlashCommand,
  ack: (response: RespondArguments) => Promise<void>,
  answering: Promise<string>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const slow = await Promise.race([
    answering.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ACK_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!slow) return ack({ response_type: "ephemeral", text: await answering });
  await ack({ response_type: "ephemeral", text: "One moment…" });
  await d.api
    .postEphemeral({ channel: command.channel_id, user: command.user_id, text: await answering })
    .catch(() => undefined);
}

async function settingsCommand(d: SlackDeps, command: SlashCommand): Promise<string> {
  const team = command.team_id || d.teamId;
  const isDm = command.channel_id.startsWith("D") || command.channel_name === "directmessage";
  const place = slackPlace(team, command.channel_id, isDm);
  try {
    const user = await d.api.user(command.user_id);
    const actor = { id: command.user_id, name: user.name, isPlatformAdmin: user.isAdmin };
    return await runSettingsCommand(parseSettingsCommand(command.text ?? ""), place, actor, d);
  } catch (err) {
    d.log.error({ err, channel: command.channel_id }, "Slack /chatbot failed");
    return ":warning: Sorry, I could not read or change the settings: my memory store failed. Please try again.";
  }
}

/**
 * Whether `user` may use the bot in this place; when not, tells them once a
 * day, ephemerally, and nothing of the message goes further.
 */
export async function admitted(
  d: SlackDeps,
  place: Place,
  user: string,
  threadTs: string | undefined,
): Promise<boolean> {
  const actor = { id: user, name: user };
  const refusal = d.access.check(place, actor);
  if (!refusal) return true;
  d.log.info({ user, channel: place.channel, reason: refusal.reason }, "Slack: refused a message");
  if (d.access.shouldTell(actor, refusal)) {
    await d.api
      .postEphemeral({
        channel: place.channel ?? "",
        user,
        text: refusal.message,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      })
      .catch(() => undefined);
  }
  return false;
}
