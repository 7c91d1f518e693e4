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
import type { Config } from "../../src/config/index.js";
import { StartError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import type { CrashRecovery, MessageFinisher } from "../../src/replicas/index.js";
import { type EditBudgetSource, EditBudgets, sendFinal } from "../../src/stream/index.js";
import { DISCORD_TOKEN_REJECTED } from "../../src/texts.js";
import { type Bot, KeyedQueue, type Surface, type TurnTracker } from "../../src/turn/index.js";
import { answer } from "./answer.js";
import { handleReset, registerCommands } from "./commands.js";
import { EMPTY_HINT, readMessage, THREAD_FOLLOW_MS, threadKey } from "./messages.js";
import {
  DISCORD_MAX_CHARS,
  logSendFailure,
  NO_PINGS,
  rejectMessageRateLimits,
  toDiscordText,
  toReplyError,
} from "./reply.js";
import { holdsFirstShard, stopWithManager } from "./sharding.js";

export { runShardManager } from "./shard-manager.js";

export interface DiscordOptions {
  bot: Bot;
  /** Every surface's answers in flight; Discord's are drained on stop and stopped by /reset. */
  turns: TurnTracker;
  config: Config["discord"];
  /** Shown at the end of a streaming answer until it is done. */
  cursor: string;
  log: Logger;
  /**
   * Message-edit budgets per channel (e.g. SharedEditBudgets across replicas or shards).
   * Default: in-process, `config.editsPer5s` per 5 s.
   */
  budgets?: EditBudgetSource;
  /** Remembers messages being streamed, so a crash never leaves a cursor (src/replicas/recovery.ts). */
  recovery?: CrashRecovery;
}

/** The Discord surface: ready() while the gateway is connected. */
export interface DiscordSurface extends Surface {
  /** Adds the bot to a server with exactly the permissions it needs. */
  readonly inviteUrl: string;
  readonly finisher: MessageFinisher;
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

/** @see https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes */
const GATEWAY_DISALLOWED_INTENTS = 4014;
const GATEWAY_AUTH_FAILED = 4004;

/**
 * Connects the bot to Discord: logs in, registers /reset, and answers DMs,
 * mentions, replies to it, and threads it answered in, by streaming edits.
 * Resolves once the gateway is ready; rejects with StartError when the
 * token or the developer-portal settings are wrong.
 */
export async function startDiscord(options: DiscordOptions): Promise<DiscordSurface> {
  const { bot, config, cursor, turns } = options;
  if (!config.token) throw new StartError("discord_no_token", "DISCORD_TOKEN is not set");

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
  const budgets = options.budgets ?? new EditBudgets({ edits: config.editsPer5s, perMs: 5_000 });
  const deps = { bot, budgets, cursor, log, recovery: options.recovery };
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
        attachments: bot.attachmentLimits,
        apiUrl: config.apiUrl,
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
      const target = { channel, guildId: message.guildId, replyTo };
      turn = turns.run({ conversationId: decision.incoming.conversationId, platform: "discord" }, (signal) =>
        answer(deps, decision.incoming, target, signal),
      );
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
    name: "discord",
    inviteUrl,
    ready: async () => client.isReady(),
    finisher: {
      maxChars: DISCORD_MAX_CHARS,
      render: toDiscordText,
      // Drawn from the channel's live budget, at final priority, like any final edit.
      finish: (location, text) =>
        sendFinal(budgets.get(location.channel ?? ""), async () => {
          await client.rest
            .patch(Routes.channelMessage(location.channel ?? "", location.id ?? ""), {
              body: { content: text, allowed_mentions: { parse: [] } },
            })
            .catch((err: unknown) => {
              throw toReplyError(err);
            });
        }),
    },
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      await turns.drain("discord", graceMs);
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
    return new StartError(
      "discord_disallowed_intents",
      `Discord refused the bot because the Message Content intent is not enabled. Open ${where}, turn on "Message Content Intent" under Privileged Gateway Intents, save, and restart. Without it the bot cannot read messages.`,
      { cause: err },
    );
  }
  const badToken =
    closeCode === GATEWAY_AUTH_FAILED ||
    (err instanceof DiscordjsError && err.code === DiscordjsErrorCodes.TokenInvalid) ||
    (err instanceof Error && /authentication failed/i.test(err.message));
  if (badToken) {
    return new StartError("discord_bad_token", DISCORD_TOKEN_REJECTED, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A bot token starts with the base64 of the bot's user id, which is also its application id. */
function applicationIdFromToken(token: string): string | undefined {
  const first = token.split(".")[0] ?? "";
  const decoded = Buffer.from(first, "base64").toString("utf8");
  return /^\d{17,20}$/.test(decoded) ? decoded : undefined;
}
