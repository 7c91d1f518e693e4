import { randomUUID } from "node:crypto";
import {
  Client,
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
import type { Access, PlaceSettings } from "../../src/settings/index.js";
import { type EditBudgetSource, EditBudgets, RenderOrder, sendFinal } from "../../src/stream/index.js";
import { type Bot, type Incoming, KeyedQueue, type Surface, type TurnTracker } from "../../src/turn/index.js";
import type { UsageMeter } from "../../src/usage/index.js";
import { answer, type TurnTarget } from "./answer.js";
import { handleApprovalButton } from "./approval.js";
import { handleReset, registerCommands } from "./commands.js";
import { handleConfig } from "./config-command.js";
import { type ControlDeps, handleButton, rememberTurn } from "./controls.js";
import { login } from "./login.js";
import { readMessage } from "./messages.js";
import { FOLLOW_MS, threadKey } from "./places.js";
import {
  DISCORD_MAX_CHARS,
  logSendFailure,
  NO_PINGS,
  rejectMessageRateLimits,
  toDiscordText,
  toReplyError,
} from "./reply.js";
import { holdsFirstShard, stopWithManager } from "./sharding.js";
import { EMPTY_HINT } from "./texts.js";
import { handleUsage } from "./usage-command.js";

export { joinShardPeers, type ShardPeers } from "./shard-ipc.js";
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
  /** Per-place settings and the /config command that changes them. */
  settings: PlaceSettings;
  /** Who may use the bot, and change its settings. */
  access: Access;
  /** How often "typing…" is renewed while the model has not answered yet (ms; default 8,000). */
  typingRenewMs?: number;
  /** Tokens per user and channel, and the daily limits (/usage). */
  usage: UsageMeter;
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

/**
 * Connects the bot to Discord: logs in, registers /reset, and answers DMs,
 * mentions, replies to it, and threads it answered in, by streaming edits
 * with Stop and Regenerate buttons.
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
  const deps = {
    bot,
    budgets,
    order: new RenderOrder(),
    cursor,
    log,
    recovery: options.recovery,
    typingRenewMs: options.typingRenewMs,
  };
  let stopping = false;

  /**
   * Records the turn for its buttons, then runs it; resolves once it runs
   * (with `done`, its end), so turns of one channel start in arrival order.
   */
  const startTurn = async (incoming: Incoming, target: TurnTarget): Promise<{ done: Promise<void> }> => {
    const id = randomUUID();
    const { conversationId } = incoming;
    const askedBy = target.askedBy ?? incoming.author;
    const { channel, guildId, replyTo } = target;
    await rememberTurn(bot.state, id, {
      conversationId,
      channelId: channel.id,
      guildId,
      replyTo,
      askedBy,
    }).catch((err: unknown) =>
      log.warn({ err, conversationId }, "Discord: could not remember the turn for its buttons"),
    );
    const done = turns.run({ id, conversationId, platform: "discord", askedBy }, (signal) =>
      answer(deps, incoming, target, signal, id),
    );
    return { done };
  };
  const patchMessage = async (channelId: string, messageId: string, body: Record<string, unknown>) => {
    await client.rest.patch(Routes.channelMessage(channelId, messageId), { body }).catch((err: unknown) => {
      throw toReplyError(err);
    });
  };
  const controls: ControlDeps = {
    turns,
    state: bot.state,
    log,
    removeButtons: (channelId, messageId) =>
      sendFinal(budgets.get(channelId), () => patchMessage(channelId, messageId, { components: [] })),
    regenerate: (turn, presser, channel) => {
      if (stopping) return;
      const again: Incoming = {
        conversationId: turn.conversationId,
        author: { id: presser.id, name: presser.name },
        text: "",
        platform: "discord",
        again: true,
      };
      void startTurn(again, { channel, guildId: turn.guildId, replyTo: turn.replyTo, askedBy: turn.askedBy });
    },
  };

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
        settings: options.settings,
        access: options.access,
        cursor,
        attachments: bot.attachmentLimits,
        apiUrl: config.apiUrl,
        log,
      });
      if (decision.kind === "ignore") return;
      if (decision.kind === "refused") {
        log.info(
          { ...where, user: decision.actor.id, reason: decision.refusal.reason },
          "Discord: refused a message",
        );
        // Once a day, in a DM: Discord has no ephemeral reply to a message.
        if (options.access.shouldTell(decision.actor, decision.refusal))
          await message.author
            .send({ content: decision.refusal.message, allowedMentions: NO_PINGS })
            .catch(() => undefined);
        return;
      }
      const replyTo = message.guildId !== null ? message.id : undefined;
      if (decision.kind === "hint") {
        const reply = replyTo ? { reply: { messageReference: replyTo, failIfNotExists: false } } : {};
        await channel
          .send({ content: EMPTY_HINT, ...reply })
          .catch((err: unknown) => logSendFailure(log, err, where));
        return;
      }
      if (decision.inThread) await bot.state.set(threadKey(message.channelId), true, FOLLOW_MS);
      turn = (await startTurn(decision.incoming, { channel, guildId: message.guildId, replyTo })).done;
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
    if (stopping) return;
    if (interaction.isButton()) {
      handleApprovalButton(interaction, bot, log)
        .then((handled) => (handled ? true : handleButton(interaction, controls)))
        .catch((err: unknown) =>
          log.error({ err, channelId: interaction.channelId }, "Discord: could not answer a button"),
        );
      return;
    }
    if (!interaction.isChatInputCommand()) return;
    if (interaction.commandName === "config") {
      const deps = { settings: options.settings, access: options.access, log };
      handleConfig(interaction, deps).catch((err: unknown) =>
        log.error({ err, channelId: interaction.channelId }, "Discord: /config failed"),
      );
      return;
    }
    if (interaction.commandName === "usage") {
      const deps = { usage: options.usage, settings: options.settings, access: options.access, log };
      handleUsage(interaction, deps).catch((err: unknown) =>
        log.error({ err, channelId: interaction.channelId }, "Discord: /usage failed"),
      );
      return;
    }
    if (interaction.commandName !== "reset") return;
    handleReset(
      interaction,
      async ({ conversationId, scope }) => {
        await Promise.all([turns.stopConversation(conversationId), scope && turns.stopScope(scope)]);
        await bot.reset(conversationId);
        if (scope) await bot.resetScope(scope);
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
  if (holdsFirstShard(client))
    await registerCommands(
      client.rest,
      applicationId,
      config.guildId,
      options.settings.defaults.models,
      log,
      options.settings.defaults.toolServers?.names,
    );

  return {
    name: "discord",
    inviteUrl,
    ready: async () => client.isReady(),
    finisher: {
      maxChars: DISCORD_MAX_CHARS,
      render: toDiscordText,
      // Drawn from the channel's live budget, at final priority, like any final edit; the Stop button goes.
      finish: (location, text) =>
        sendFinal(budgets.get(location.channel ?? ""), () =>
          patchMessage(location.channel ?? "", location.id ?? "", {
            content: text,
            allowed_mentions: { parse: [] },
            components: [],
          }),
        ),
    },
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      await turns.drain("discord", graceMs);
      await client.destroy();
    },
  };
}
