import type { App, SlashCommand } from "@slack/bolt";
import { KeyedQueue } from "../../src/turn/index.js";
import { answer, type Place, type SlackDeps, type SlackMessage } from "./answer.js";
import { isAssistantThread } from "./assistant.js";
import { mentions, stripMention } from "./format.js";
import { admitted, registerSettingsCommand, slackPlace } from "./settings.js";
import { registerUsageCommand } from "./usage.js";

/**
 * Slack retries an unacknowledged event three times, over about an hour; a message answered
 * once stays claimed that long.
 * @see https://api.slack.com/apis/events-api#retries
 */
const DEDUPE_TTL_MS = 3_600_000;
/** How long the bot keeps answering follow-ups without a mention in a thread it answered in. */
const JOINED_TTL_MS = 30 * 24 * 3_600_000;
const PERSON_SUBTYPES = new Set(["thread_broadcast", "file_share"]);

/**
 * Wires Slack's events to the core: `app_mention` and `message` (channels,
 * private channels, group and direct messages) become turns, `/reset` forgets.
 */
export function registerHandlers(app: App, d: SlackDeps): void {
  // Messages of one conversation are handled in arrival order: a turn's preparation (user names,
  // thread history) takes round trips, and a quick follow-up must not overtake it.
  const arrival = new KeyedQueue();
  app.event("app_mention", async ({ event, body, context }) => {
    const ev = event as SlackMessage;
    await inOrder(arrival, ev, teamOf(d, body, context.teamId), (team, done) =>
      onMessage(d, ev, team, body.event_id, true, done),
    );
  });
  app.event("message", async ({ event, body, context }) => {
    const ev = event as SlackMessage;
    await inOrder(arrival, ev, teamOf(d, body, context.teamId), (team, done) =>
      onMessage(d, ev, team, body.event_id, false, done),
    );
  });
  app.command("/reset", async ({ command, ack }) => {
    await ack({ response_type: "ephemeral", text: await resetCommand(d, command) });
  });
  registerSettingsCommand(app, d);
  registerUsageCommand(app, d);
}

/**
 * Takes the message's place in its conversation's line at once (before any
 * await), and hands `handle` the function that leaves it: called when the
 * message is dropped, or when its turn has ended.
 */
async function inOrder(
  arrival: KeyedQueue,
  ev: SlackMessage,
  team: string,
  handle: (team: string, done: () => void) => Promise<boolean>,
): Promise<void> {
  const isDm = ev.channel_type === "im" || (!ev.channel_type && (ev.channel ?? "").startsWith("D"));
  const key =
    isDm && !ev.thread_ts ? `${team}:${ev.channel}` : `${team}:${ev.channel}:${ev.thread_ts ?? ev.ts}`;
  const done = await arrival.enter(key);
  let handedOver = false;
  try {
    handedOver = await handle(team, done);
  } finally {
    if (!handedOver) done();
  }
}

function teamOf(d: SlackDeps, body: { team_id?: string }, contextTeam: string | undefined): string {
  return contextTeam ?? body.team_id ?? d.teamId;
}

/**
 * Decides whether a message is for the bot and, if so, starts its turn.
 * A mention arrives twice (`message` and `app_mention`) and Slack redelivers
 * what it thinks was not acknowledged; claims on the event id and on
 * channel+ts make each message answered exactly once.
 */
async function onMessage(
  d: SlackDeps,
  ev: SlackMessage,
  team: string,
  eventId: string | undefined,
  isMention: boolean,
  done: () => void,
): Promise<boolean> {
  // Edits, deletions, joins and other bots are not someone asking; a file or a broadcast reply is.
  if (ev.subtype && !PERSON_SUBTYPES.has(ev.subtype)) return false;
  if (ev.bot_id || !ev.user || ev.user === d.botUserId || !ev.channel || !ev.ts) return false;
  const state = d.bot.state;

  const text = ev.text ?? "";
  const isDm = ev.channel_type === "im" || (!ev.channel_type && ev.channel.startsWith("D"));
  const mentioned = isMention || mentions(text, d.botUserId);
  const root = ev.thread_ts ?? ev.ts;
  const joinedKey = `slack:joined:${team}:${ev.channel}:${root}`;
  const joined = ev.thread_ts ? (await state.get<boolean>(joinedKey)) === true : false;
  const follows = joined && !d.requireMention;
  const where = slackPlace(team, ev.channel, isDm);
  // A channel made for the bot (reply-to-all) gets every message answered, mention or not.
  if (!isDm && !mentioned && !follows && !(await d.settings.resolve(where)).replyToAll) return false;
  if (!(await admitted(d, where, ev.user, ev.thread_ts))) return false;
  if (eventId && !(await state.claim(`slack:event:${eventId}`, DEDUPE_TTL_MS))) return false;
  if (!(await state.claim(`slack:msg:${ev.channel}:${ev.ts}`, DEDUPE_TTL_MS))) return false;

  const topLevelDm = isDm && !ev.thread_ts;
  const place: Place = {
    team,
    channel: ev.channel,
    conversationId: topLevelDm ? `slack:${team}:${ev.channel}` : `slack:${team}:${ev.channel}:${root}`,
    threadTs: topLevelDm ? undefined : root,
    isDm,
    // Only the bot's first message in a thread reads what was said before it; after a reset it must not.
    readThread: !joined && ev.thread_ts !== undefined && ev.thread_ts !== ev.ts,
    assistant: isDm && ev.thread_ts !== undefined && (await isAssistantThread(d, team, ev.channel, root)),
  };
  if (!topLevelDm && !joined) await state.set(joinedKey, true, JOINED_TTL_MS);
  const question = stripMention(text, d.botUserId);
  d.log.debug({ conversationId: place.conversationId, mentioned }, "Slack message for the bot");
  // The asker may stop the answer (Slack shows `<@id>` as their name, so the id serves as both).
  const askedBy = { id: ev.user, name: ev.user };
  // A bot whose turns follow the messages' order across replicas hands the next message on as
  // soon as this one has its place in the shared line: waiting here behind a running turn, it
  // would miss its place there. Otherwise the line holds until the turn ends.
  void d.turns.run({ conversationId: place.conversationId, platform: "slack", askedBy }, (signal, turnId) =>
    answer(d, ev, place, question, signal, turnId, done).finally(done),
  );
  return true;
}

/**
 * `/reset`: Slack gives a command no thread, so in a DM it forgets the DM
 * (threads included) and in a channel every conversation of the bot there.
 * Returns the ephemeral confirmation.
 */
async function resetCommand(d: SlackDeps, command: SlashCommand): Promise<string> {
  const team = command.team_id || d.teamId;
  const channel = command.channel_id;
  const isDm = channel.startsWith("D") || command.channel_name === "directmessage";
  const scope = `slack:${team}:${channel}`;
  try {
    await Promise.all([d.bot.reset(scope), d.bot.resetScope(scope)]);
  } catch (err) {
    d.log.error({ err, scope }, "Slack /reset failed");
    return ":warning: Sorry, I could not reset: my memory store failed. Please try again in a moment.";
  }
  d.log.info({ scope, user: command.user_id }, "Slack /reset");
  return isDm
    ? "Done: I forgot our direct-message conversation, threads included."
    : `Done: I forgot every conversation I had in <#${channel}>, in all its threads.`;
}
