import { type ButtonInteraction, MessageFlags, PermissionFlagsBits, type SendableChannels } from "discord.js";
import type { Logger } from "../../src/log.js";
import type { Author, StateStore } from "../../src/memory/index.js";
import type { Presser, TurnTracker } from "../../src/turn/index.js";
import { FOLLOW_MS } from "./places.js";
import { parseControlId } from "./reply.js";
import { ALREADY_FINISHED, CANNOT_REGENERATE, CONTROL_FAILED, ONLY_LATEST, onlyAskerMay } from "./texts.js";

/** What Regenerate needs of an answered turn; kept in the state store (any shard or restart can read it). */
export interface AnsweredTurn {
  conversationId: string;
  channelId: string;
  guildId: string | null;
  /** The question's message, which the answer replies to (servers only). */
  replyTo: string | undefined;
  askedBy: Author;
}

const turnKey = (turnId: string) => `discord:turn:${turnId}`;
/** The conversation's newest turn: only its answer can be regenerated (memory holds no other to replace). */
const latestKey = (conversationId: string) => `discord:latest:${conversationId}`;
const regeneratedKey = (turnId: string) => `discord:regenerated:${turnId}`;

/** Records a turn as it starts: its controls can act on it later, and it is now its conversation's newest. */
export async function rememberTurn(state: StateStore, turnId: string, turn: AnsweredTurn): Promise<void> {
  await state.set(turnKey(turnId), turn, FOLLOW_MS);
  await state.set(latestKey(turn.conversationId), turnId, FOLLOW_MS);
}

/** What the buttons need; built once in startDiscord. */
export interface ControlDeps {
  turns: TurnTracker;
  state: StateStore;
  log: Logger;
  /** Takes the buttons off a message, by an edit drawn on the channel's edit budget. */
  removeButtons(channelId: string, messageId: string): Promise<void>;
  /** Starts answering `turn`'s question again in `channel`, asked for by `presser`. */
  regenerate(turn: AnsweredTurn, presser: Presser, channel: SendableChannels): void;
}

/**
 * Answered within this, else acknowledged first and answered by a followup:
 * Discord wants the first response within 3 s.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
 */
const ANSWER_WITHIN_MS = 1_500;

/**
 * What a press comes to: an ephemeral sentence for the presser only, or an
 * acknowledgement without a visible answer (DEFERRED_UPDATE_MESSAGE: the
 * answer's own edits show the result), then `afterwards` once acknowledged.
 */
type Outcome = { say: string } | { update: true; afterwards?: () => void };

/**
 * A press on a Stop or Regenerate button. The asker, or a member with Manage
 * Messages in the channel, may press; anyone else is told so, only them, and
 * nothing changes. Returns false when the button is not one of ours.
 */
export async function handleButton(interaction: ButtonInteraction, d: ControlDeps): Promise<boolean> {
  const control = parseControlId(interaction.customId);
  if (!control) return false;
  const presser = presserOf(interaction);
  const deciding = (
    control.kind === "stop"
      ? stop(d, control.turnId, presser)
      : regenerate(d, interaction, control.turnId, presser)
  ).catch((err: unknown): Outcome => {
    d.log.error({ err, channelId: interaction.channelId, control: control.kind }, "Discord: a button failed");
    return { say: CONTROL_FAILED };
  });
  await answerInTime(interaction, deciding);
  return true;
}

/**
 * Who pressed. An admin here is a member with Manage Messages in the channel,
 * as the interaction's `member.permissions` has it (channel overwrites applied).
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure
 * @see https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags
 */
function presserOf(interaction: ButtonInteraction): Presser {
  const member = interaction.inCachedGuild() ? interaction.member : undefined;
  return {
    id: interaction.user.id,
    name: member?.displayName ?? interaction.user.displayName,
    isAdmin: interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false,
  };
}

async function stop(d: ControlDeps, turnId: string, presser: Presser): Promise<Outcome> {
  const result = await d.turns.stop(turnId, presser);
  if (result.outcome === "stopped") return { update: true };
  if (result.outcome === "refused") return { say: onlyAskerMay(result.askedBy.name, "stop") };
  return { say: ALREADY_FINISHED };
}

async function regenerate(
  d: ControlDeps,
  interaction: ButtonInteraction,
  turnId: string,
  presser: Presser,
): Promise<Outcome> {
  const turn = await d.state.get<AnsweredTurn>(turnKey(turnId));
  if (!turn) return { say: CANNOT_REGENERATE };
  if (turn.askedBy.id !== presser.id && !presser.isAdmin) {
    return { say: onlyAskerMay(turn.askedBy.name, "regenerate") };
  }
  if ((await d.state.get<string>(latestKey(turn.conversationId))) !== turnId) return { say: ONLY_LATEST };
  // A double click regenerates once.
  if (!(await d.state.claim(regeneratedKey(turnId), FOLLOW_MS))) return { update: true };
  const channel = interaction.channel ?? (await interaction.client.channels.fetch(turn.channelId));
  if (!channel?.isSendable()) return { say: CANNOT_REGENERATE };
  const { channelId, message } = interaction;
  return {
    update: true,
    afterwards: () => {
      d.removeButtons(channelId, message.id).catch((err: unknown) =>
        d.log.warn({ err, channelId }, "Discord: could not take the Regenerate button off"),
      );
      d.regenerate(turn, presser, channel);
    },
  };
}

/** Answers the press within Discord's 3 s: at once when decided in time, else acknowledged first. */
async function answerInTime(interaction: ButtonInteraction, deciding: Promise<Outcome>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const slow = await Promise.race([
    deciding.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ANSWER_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  if (slow) await interaction.deferUpdate();
  const outcome = await deciding;
  if ("say" in outcome) {
    const answer = { content: outcome.say, flags: MessageFlags.Ephemeral } as const;
    await (slow ? interaction.followUp(answer) : interaction.reply(answer));
    return;
  }
  if (!slow) await interaction.deferUpdate();
  outcome.afterwards?.();
}
