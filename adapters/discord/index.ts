import { once } from "node:events";
import {
  Client,
  type CloseEvent,
  DiscordjsError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  type Message,
  Partials,
  PermissionFlagsBits,
  Routes,
} from "discord.js";
import type { Bot } from "../../src/bot.js";
import type { Config } from "../../src/config.js";
import type { Logger } from "../../src/log.js";
import type { Finisher, InflightMessages } from "../../src/memory/inflight.js";
import type { EditBudgetSource } from "../../src/memory/shared-budget.js";
import { KeyedQueue } from "../../src/queue.js";
import { EditBudgets } from "../../src/stream/index.js";
import { handleReset, registerCommands } from "./commands.js";
import { DiscordStartError } from "./errors.js";
import { EMPTY_HINT, readMessage, THREAD_FOLLOW_MS, threadKey } from "./messages.js";
import { logSendFailure, NO_PINGS, rejectMessageRateLimits, toDiscordText } from "./reply.js";
import { holdsFirstShard, stopWithManager } from "./sharding.js";
import { DiscordTurns } from "./turns.js";

export { DiscordStartError, type DiscordStartErrorCode } from "./errors.js";
export { DiscordShards, recommendedShardCount, type ShardManagerOptions } from "./sharding.js";

export interface DiscordOptions {
  bot: Bot;
  config: Config["discord"];
  /** Shown at the end of a streaming answer until it is done. */
  cursor: string;
  log: Logger;
  /**
   * Message-edit budgets per channel (e.g. SharedEditBudgets across replicas or shards).
   * Default: in-process, `config.editsPer5s` per 5 s.
   */
  budgets?: EditBudgetSource;
  /** Remembers messages being streamed, so a crash never leaves a cursor (src/memory/inflight.ts). */
  inflight?: InflightMessages;
}

export interface DiscordAdapter {
  /** Edits a message another process left streaming to its final text (for InflightMessages.sweep). */
  finishMessage: Finisher;
  /**
   * Stops taking messages, waits up to `graceMs` (default 10 s) for answers
   * being written, stops the rest (each still gets its final edit), and
   * disconnects.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Adds the bot to a server with exactly the permissions it needs. */
  inviteUrl: string;
  /** Whether the gateway is connected (for a readiness probe). */
  ready(): Promise<boolean>;
}

/**
 * What the bot needs in a channel: see it, answer (also in threads), and read
 * history, without which Discord refuses a reply to a message.
 */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory;

export function inviteUrlFor(applicationId: string): string {
  const query = new URLSearchParams({
    client_id: applicationId,
    permissions: BOT_PERMISSIONS.toString(),
    scope: "bot applications.commands",
  });
  return `https://discord.com/oauth2/authorize?${query}`;
}

const GATEWAY_DISALLOWED_INTENTS = 4014;
const GATEWAY_AUTH_FAILED = 4004;

/**
 * Connects the bot to Discord: logs in, registers /reset, and answers DMs,
 * mentions, replies to it, and threads it answered in, by streaming edits.
 * Resolves once the gateway is ready; rejects with DiscordStartError when the
 * token or the developer-portal settings are wrong.
 */
export async function startDiscord(options: DiscordOptions): Promise<DiscordAdapter> {
  const { bot, config, cursor } = options;
  if (!config.token) throw new DiscordStartError("discord_no_token", "DISCORD_TOKEN is not set");

  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      GatewayIntentBits.MessageContent,
    ],
    // DM channels are not cached until a message arrives; without this partial discord.js drops DMs.
    partials: [Partials.Channel],
    allowedMentions: NO_PINGS,
    rest: { ...(config.apiUrl && { api: config.apiUrl }), rejectOnRateLimit: rejectMessageRateLimits },
    // Shards: under a ShardingManager discord.js reads this process's shard from SHARDS/SHARD_COUNT itself.
  });
  const log = options.log.child({ platform: "discord", ...(client.shard && { shards: client.shard.ids }) });
  stopWithManager(client, log);
  const turns = new DiscordTurns({
    bot,
    budgets: options.budgets ?? new EditBudgets({ edits: config.editsPer5s, perMs: 5_000 }),
    cursor,
    log,
    inflight: options.inflight,
  });
  let stopping = false;

  // Reading a message can take a while (attachments); one channel's messages are read in arrival order
  // so their turns queue in that order too.
  const arrival = new KeyedQueue();

  const onMessage = async (message: Message): Promise<void> => {
    const botId = client.user?.id;
    if (stopping || !botId || !message.channel.isSendable()) return;
    const channel = message.channel;
    const where = { channelId: message.channelId, guildId: message.guildId };
    const release = await arrival.enter(message.channelId);
    let turn: Promise<void> | undefined;
    try {
      const decision = await readMessage(message, {
        botId,
        requireMention: config.requireMention,
        state: bot.state,
        log,
      });
      if (decision.kind === "ignore") return;
      const replyTo = message.guildId !== null ? message.id : undefined;
      if (decision.kind === "hint") {
        const reply = replyTo ? { reply: { messageReference: replyTo, failIfNotExists: false } } : {};
        await channel
          .send({ content: EMPTY_HINT, ...reply })
          .catch((err: unknown) => logSendFailure(log, err, where));
        return;
      }
      if (decision.inThread) await bot.state.set(threadKey(message.channelId), true, THREAD_FOLLOW_MS);
      turn = turns.run(decision.incoming, { channel, guildId: message.guildId, replyTo });
    } finally {
      release();
    }
    await turn;
  };

  client.on(Events.MessageCreate, (message) => {
    onMessage(message).catch((err: unknown) =>
      log.error({ err, channelId: message.channelId }, "Discord: message failed"),
    );
  });
  client.on(Events.InteractionCreate, (interaction) => {
    if (stopping || !interaction.isChatInputCommand() || interaction.commandName !== "reset") return;
    handleReset(
      interaction,
      async (conversationId) => {
        await turns.stopConversation(conversationId);
        await bot.reset(conversationId);
      },
      log,
    ).catch((err: unknown) => log.error({ err, channelId: interaction.channelId }, "Discord: /reset failed"));
  });
  // Without an "error" listener an EventEmitter error would crash the process.
  client.on(Events.Error, (err) => log.error({ err }, "Discord client error"));
  client.on(Events.Warn, (message) => log.warn(message));
  client.on(Events.ShardDisconnect, (event) =>
    log.warn({ code: event.code }, "Discord gateway closed for good"),
  );
  // client.destroy() at shutdown also reports "reconnecting"; only a real reconnect is news.
  client.on(Events.ShardReconnecting, () => {
    if (!stopping) log.info("Discord gateway reconnecting");
  });
  client.on(Events.ShardResume, () => log.info("Discord gateway resumed"));

  await login(client, config.token, log);
  const applicationId = client.application?.id ?? client.user?.id ?? "";
  const inviteUrl = inviteUrlFor(applicationId);
  log.info({ inviteUrl }, `Discord: logged in as ${client.user?.tag}. Invite it to a server: ${inviteUrl}`);
  // Commands are per application: the shard with shard 0 registers them for all.
  if (holdsFirstShard(client)) await registerCommands(client.rest, applicationId, config.guildId, log);

  return {
    inviteUrl,
    ready: async () => client.isReady(),
    finishMessage: async (location, text) => {
      await client.rest.patch(Routes.channelMessage(location.channel ?? "", location.id ?? ""), {
        body: { content: toDiscordText(text), allowed_mentions: { parse: [] } },
      });
    },
    async stop({ graceMs = 10_000 } = {}) {
      if (stopping) return;
      stopping = true;
      await turns.stopAll(graceMs);
      await client.destroy();
    },
  };
}

/** Logs in and waits until the guilds are loaded; explains the failures a person can fix. */
async function login(client: Client, token: string, log: Logger): Promise<void> {
  let closeCode: number | undefined;
  const onClose = (event: CloseEvent) => {
    closeCode = event.code;
  };
  client.on(Events.ShardDisconnect, onClose);
  const cancel = new AbortController();
  const ready = once(client, Events.ClientReady, { signal: cancel.signal });
  ready.catch(() => {});
  try {
    await client.login(token);
    await ready;
  } catch (err) {
    const explained = explainLoginFailure(err, closeCode, token);
    log.error(explained.message);
    throw explained;
  } finally {
    cancel.abort();
    client.off(Events.ShardDisconnect, onClose);
  }
}

function explainLoginFailure(err: unknown, closeCode: number | undefined, token: string): Error {
  if (
    closeCode === GATEWAY_DISALLOWED_INTENTS ||
    (err instanceof Error && /disallowed intents/i.test(err.message))
  ) {
    const id = applicationIdFromToken(token);
    const where = id
      ? `https://discord.com/developers/applications/${id}/bot`
      : "https://discord.com/developers/applications";
    return new DiscordStartError(
      "discord_disallowed_intents",
      `Discord refused the bot because the Message Content intent is not enabled. Open ${where}, turn on "Message Content Intent" under Privileged Gateway Intents, save, and restart. Without it the bot cannot read messages.`,
      err,
    );
  }
  const badToken =
    closeCode === GATEWAY_AUTH_FAILED ||
    (err instanceof DiscordjsError && err.code === DiscordjsErrorCodes.TokenInvalid) ||
    (err instanceof Error && /authentication failed/i.test(err.message));
  if (badToken) {
    return new DiscordStartError(
      "discord_bad_token",
      "Discord rejected DISCORD_TOKEN. Copy the bot token again from the developer portal (Bot → Reset Token) into .env.",
      err,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A bot token starts with the base64 of the bot's user id, which is also its application id. */
function applicationIdFromToken(token: string): string | undefined {
  const first = token.split(".")[0] ?? "";
  const decoded = Buffer.from(first, "base64").toString("utf8");
  return /^\d{17,20}$/.test(decoded) ? decoded : undefined;
}
