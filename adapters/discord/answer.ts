import type { SendableChannels } from "discord.js";
import type { Logger } from "../../src/log.js";
import type { Author } from "../../src/memory/index.js";
import type { CrashRecovery } from "../../src/replicas/index.js";
import { type EditBudgetSource, type RenderOrder, renderByEditing } from "../../src/stream/index.js";
import type { Bot, Incoming } from "../../src/turn/index.js";
import { discordApproval } from "./approval.js";
import { answerKey, FOLLOW_MS, isReplyChain } from "./places.js";
import { DiscordReply, logSendFailure } from "./reply.js";

/**
 * Discord shows "typing…" for 10 s per request; renew a little before it lapses.
 * @see https://discord.com/developers/docs/resources/channel#trigger-typing-indicator
 */
export const TYPING_RENEW_MS = 8_000;

/** What answering needs; built once in startDiscord. */
export interface AnswerDeps {
  bot: Bot;
  /** Message budgets, one per channel. */
  budgets: EditBudgetSource;
  /** One conversation's answers send in turn: the next one's first post waits for this one's final edit. */
  order: RenderOrder;
  cursor: string;
  log: Logger;
  /** Remembers messages being streamed, so a crash never leaves a cursor. */
  recovery?: CrashRecovery;
  /** How often "typing…" is renewed until the first token (ms; default TYPING_RENEW_MS). */
  typingRenewMs?: number;
}

export interface TurnTarget {
  channel: SendableChannels;
  guildId: string | null;
  /** The user's message, answered as a reply in servers. */
  replyTo: string | undefined;
  /** Who asked: they may stop or regenerate the answer. Default: the author of the incoming message. */
  askedBy?: Author;
}

/**
 * Answers `incoming` in the target channel by streaming edits, with the Stop
 * and Regenerate buttons of turn `turnId`; resolves when the final edit is
 * done. Posting and editing go over REST, so a turn finishes (with its final
 * edit) even while the gateway is reconnecting.
 */
export async function answer(
  d: AnswerDeps,
  incoming: Incoming,
  target: TurnTarget,
  signal: AbortSignal,
  turnId: string,
): Promise<void> {
  const { channel, guildId } = target;
  const { conversationId } = incoming;
  const place = d.order.enter(conversationId);
  const where = { channelId: channel.id, guildId };
  // A failed typing request is only noted: the post right after it reports the same problem.
  const typing = new Typing(
    channel,
    (err) => d.log.debug({ ...where, err }, "Discord: typing indicator failed"),
    d.typingRenewMs ?? TYPING_RENEW_MS,
  );
  const chain = isReplyChain(conversationId);
  const discordReply = new DiscordReply(channel, d.budgets.get(channel.id), {
    replyTo: target.replyTo,
    turnId,
    // A reply to any message of the answer continues its conversation.
    ...(chain && {
      onPosted: (id: string) =>
        d.bot.state
          .set(answerKey(id), conversationId, FOLLOW_MS)
          .catch((err: unknown) => d.log.warn({ ...where, err }, "Discord: could not remember the answer")),
    }),
  });
  const reply = d.recovery
    ? d.recovery.track("discord", discordReply, (ref) => ({ channel: channel.id, id: ref.id }))
    : discordReply;
  let shown!: () => void;
  // The conversation stays this turn's until its answer is shown: the next one appears below it.
  const answerShown = new Promise<void>((resolve) => {
    shown = resolve;
  });
  try {
    // No placeholder: Discord's typing indicator shows until the first token, then the answer appears.
    const result = await renderByEditing(
      d.bot.reply(incoming, signal, {
        shown: answerShown,
        ...(d.bot.approvals ? { askApproval: discordApproval(channel) } : {}),
      }),
      reply,
      { cursor: d.cursor, placeholder: null, after: place.after, onStarted: () => typing.stop() },
    ).finally(shown);
    d.log.info(
      {
        conversationId,
        turnId,
        platform: "discord",
        edits: result.edits,
        messages: result.messages.length,
        rateLimited: result.rateLimited,
        error: result.error?.code,
      },
      "reply rendered",
    );
    if (result.platformError !== undefined) logSendFailure(d.log, result.platformError, where);
  } finally {
    typing.stop();
    place.done();
  }
}

/** Keeps "Bot is typing…" on until stopped; a failure is reported once and ends it. */
class Typing {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly channel: SendableChannels,
    private readonly onError: (err: unknown) => void,
    renewMs: number,
  ) {
    this.send();
    this.timer = setInterval(() => this.send(), renewMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
  }

  private send(): void {
    if (this.stopped) return;
    this.channel.sendTyping().catch((err: unknown) => {
      if (this.stopped) return;
      this.stop();
      this.onError(err);
    });
  }
}
