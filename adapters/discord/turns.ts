import type { SendableChannels } from "discord.js";
import type { Bot, Incoming } from "../../src/bot.js";
import type { Logger } from "../../src/log.js";
import type { InflightMessages } from "../../src/memory/inflight.js";
import type { EditBudgetSource } from "../../src/memory/shared-budget.js";
import { renderByEditing } from "../../src/stream/index.js";
import { DiscordReply, logSendFailure } from "./reply.js";

/** Discord shows "typing…" for 10 s per request; renew a little before it lapses. */
const TYPING_RENEW_MS = 8_000;

export interface TurnTarget {
  channel: SendableChannels;
  guildId: string | null;
  /** The user's message, answered as a reply in servers. */
  replyTo: string | undefined;
}

interface Running {
  conversationId: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs turns and keeps track of them, so /reset can stop the one of its
 * conversation and shutdown can stop them all. Posting and editing go over
 * REST, so a turn finishes (with its final edit) even while the gateway is
 * reconnecting.
 */
export class DiscordTurns {
  private readonly running = new Set<Running>();
  private readonly bot: Bot;
  private readonly budgets: EditBudgetSource;
  private readonly cursor: string;
  private readonly log: Logger;

  private readonly inflight: InflightMessages | undefined;

  constructor(options: {
    bot: Bot;
    budgets: EditBudgetSource;
    cursor: string;
    log: Logger;
    /** Remembers messages being streamed, so a crash never leaves a cursor. */
    inflight?: InflightMessages;
  }) {
    this.inflight = options.inflight;
    this.bot = options.bot;
    this.budgets = options.budgets;
    this.cursor = options.cursor;
    this.log = options.log;
  }

  get size(): number {
    return this.running.size;
  }

  /** Answers `incoming` in the target channel; resolves when the final edit is done. Never rejects. */
  run(incoming: Incoming, target: TurnTarget): Promise<void> {
    const controller = new AbortController();
    const entry: Running = { conversationId: incoming.conversationId, controller, done: Promise.resolve() };
    entry.done = this.render(incoming, target, controller.signal)
      .catch((err: unknown) =>
        this.log.error({ err, conversationId: incoming.conversationId }, "Discord turn failed"),
      )
      .finally(() => this.running.delete(entry));
    this.running.add(entry);
    return entry.done;
  }

  /** Stops the conversation's turns (each still ends with its final edit) and waits for them. */
  async stopConversation(conversationId: string): Promise<void> {
    const mine = [...this.running].filter((r) => r.conversationId === conversationId);
    for (const r of mine) r.controller.abort();
    await Promise.all(mine.map((r) => r.done));
  }

  /** Waits up to `graceMs` for running turns, then stops the rest and waits for their final edits. */
  async stopAll(graceMs: number): Promise<void> {
    const all = [...this.running];
    if (all.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(all.map((r) => r.done)), grace]);
    clearTimeout(timer);
    for (const r of this.running) r.controller.abort();
    await Promise.all([...this.running].map((r) => r.done));
  }

  private async render(incoming: Incoming, target: TurnTarget, signal: AbortSignal): Promise<void> {
    const { channel, guildId } = target;
    const where = { channelId: channel.id, guildId };
    // A failed typing request is only noted: the post right after it reports the same problem.
    const typing = new Typing(channel, (err) =>
      this.log.debug({ ...where, err }, "Discord: typing indicator failed"),
    );
    const discordReply = new DiscordReply(channel, this.budgets.get(channel.id), { replyTo: target.replyTo });
    const reply = this.inflight
      ? this.inflight.track("discord", discordReply, (ref) => ({ channel: channel.id, id: ref.id }))
      : discordReply;
    try {
      // No placeholder: Discord's typing indicator shows until the first token, then the answer appears.
      const result = await renderByEditing(
        untilFirst(this.bot.reply(incoming, signal), () => typing.stop()),
        reply,
        { cursor: this.cursor, placeholder: null },
      );
      this.log.info(
        {
          conversationId: incoming.conversationId,
          platform: "discord",
          edits: result.edits,
          messages: result.messages.length,
          rateLimited: result.rateLimited,
          error: result.error?.code,
        },
        "reply rendered",
      );
      if (result.platformError !== undefined) logSendFailure(this.log, result.platformError, where);
    } finally {
      typing.stop();
    }
  }
}

/** Yields what `source` yields, calling `onFirst` once at the first item or the end. */
async function* untilFirst<T>(source: AsyncIterable<T>, onFirst: () => void): AsyncGenerator<T> {
  try {
    for await (const item of source) {
      onFirst();
      yield item;
    }
  } finally {
    onFirst();
  }
}

/** Keeps "Bot is typing…" on until stopped; a failure is reported once and ends it. */
class Typing {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly channel: SendableChannels,
    private readonly onError: (err: unknown) => void,
  ) {
    this.send();
    this.timer = setInterval(() => this.send(), TYPING_RENEW_MS);
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
