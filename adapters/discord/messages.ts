import { cleanContent, type Message } from "discord.js";
import type { AttachmentLimits } from "../../src/attachments/index.js";
import type { Logger } from "../../src/log.js";
import type { StateStore, StoredMessage } from "../../src/memory/index.js";
import type { Access, Actor, Place, PlaceSettings, Refusal } from "../../src/settings/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { fetchAttachments } from "./attachments.js";
import { pointedAt, repliedAnswer, threadContext } from "./context.js";
import { answerKey, channelConversation, dmConversation, threadConversation, threadKey } from "./places.js";

/** What to do with one message. */
export type Decision =
  | { kind: "ignore" }
  | { kind: "hint" }
  /** Someone the operator's access lists leave out: nothing of it goes further. */
  | { kind: "refused"; refusal: Refusal; actor: Actor }
  | { kind: "answer"; incoming: Incoming; inThread: boolean };

export interface ReadOptions {
  botId: string;
  /** true: threads need a mention every time, even after the bot answered there. */
  requireMention: boolean;
  state: StateStore;
  /** Reply-to-all channels answer every message; the Bot reads the other settings. */
  settings: PlaceSettings;
  access: Access;
  /** The renderer's cursor, taken out of the bot's own messages read as context. */
  cursor: string;
  /** What of the attachments to download (the Bot's limits). */
  attachments: AttachmentLimits;
  /** DISCORD_API_URL: attachments may come from its host too (tests, proxies). */
  apiUrl: string | undefined;
  log: Logger;
}

/**
 * The place settings and access see: the server (or "dm") and the channel; a
 * thread or forum post is in its parent channel and inherits its settings.
 */
export function discordPlace(message: Message): Place {
  const channel = message.channel.isThread()
    ? (message.channel.parentId ?? message.channelId)
    : message.channelId;
  return message.guildId
    ? { platform: "discord", workspace: message.guildId, channel }
    : { platform: "discord", workspace: "dm", channel, isDm: true };
}

/**
 * Decides whether the bot answers and builds the turn. Answered: every DM; in
 * a server, a mention of the bot (or its role), a reply to one of its
 * messages, or any message in a thread it already answered in. Never: bots
 * (itself included), webhooks and system messages. The question brings what
 * the message points at (a replied-to or forwarded message), and a thread the
 * bot is new to brings its earlier messages as context.
 */
export async function readMessage(message: Message, options: ReadOptions): Promise<Decision> {
  const { botId } = options;
  if (message.author.bot || message.webhookId || message.system) return { kind: "ignore" };
  // guildId rather than inGuild(): a server message must never pass for a DM, even with the guild uncached.
  const inGuild = message.guildId !== null;
  const botRoleIds = message.mentions.roles.filter((r) => r.tags?.botId === botId).map((r) => r.id);
  const inThread = message.channel.isThread();
  const joined = inThread && (await options.state.get<boolean>(threadKey(message.channelId))) === true;
  const repliesToBot = message.mentions.repliedUser?.id === botId;
  if (inGuild) {
    const mentioned = message.mentions.users.has(botId) || botRoleIds.length > 0;
    const follows = joined && !options.requireMention;
    // A channel made for the bot (reply-to-all) gets every message answered, mention or not.
    if (
      !mentioned &&
      !repliesToBot &&
      !follows &&
      !(await options.settings.resolve(discordPlace(message))).replyToAll
    )
      return { kind: "ignore" };
  }

  const where = discordPlace(message);
  const author = { id: message.author.id, name: message.member?.displayName ?? message.author.displayName };
  const actor: Actor = { ...author, roles: [...(message.member?.roles.cache.keys() ?? [])] };
  const refusal = options.access.check(where, actor);
  if (refusal) return { kind: "refused", refusal, actor };

  const [pointed, own] = await Promise.all([
    pointedAt(message, options),
    fetchAttachments(message.attachments.values(), options.attachments, options.apiUrl),
  ]);
  const said = readableText(message.content, message, botId, botRoleIds);
  const text = [pointed.text, said].filter((s) => s.length > 0).join("\n\n");
  const files = [...pointed.files, ...own];
  if (text.length === 0 && files.length === 0) return { kind: "hint" };
  const place = await placeOf(message, { ...options, repliesToBot, readThread: inThread && !joined });
  return {
    kind: "answer",
    inThread,
    incoming: {
      conversationId: place.conversationId,
      author,
      text,
      platform: "discord",
      place: where,
      // The snowflake's time: replicas answer a conversation's messages in this order.
      arrivedAt: message.createdTimestamp,
      ...(place.context.length > 0 && { context: place.context }),
      ...(files.length > 0 ? { files } : {}),
    },
  };
}

/**
 * The conversation a message belongs to (see places.ts), and the context a
 * new one starts with: a thread's earlier messages the first time the bot is
 * there; in a plain channel, the answer a reply continues from when the
 * reply chain is no longer known.
 */
async function placeOf(
  message: Message,
  options: ReadOptions & { repliesToBot: boolean; readThread: boolean },
): Promise<{ conversationId: string; context: StoredMessage[] }> {
  const { guildId, channelId } = message;
  if (guildId === null) return { conversationId: dmConversation(channelId), context: [] };
  if (message.channel.isThread()) {
    const context = options.readThread
      ? await threadContext(message, options).catch((err: unknown) => {
          options.log.warn({ err, channelId }, "Discord: could not read the thread's earlier messages");
          return [];
        })
      : [];
    return { conversationId: threadConversation(guildId, channelId), context };
  }
  const repliedId = options.repliesToBot ? message.reference?.messageId : undefined;
  if (repliedId) {
    const known = await options.state.get<string>(answerKey(repliedId));
    if (known) return { conversationId: known, context: [] };
    return {
      conversationId: channelConversation(guildId, channelId, message.id),
      context: await repliedAnswer(message, options),
    };
  }
  return { conversationId: channelConversation(guildId, channelId, message.id), context: [] };
}

/**
 * The text as people read it: the bot's mention at the start or end is
 * dropped (one in mid-sentence becomes its name), other user, role and
 * channel mentions become names.
 */
function readableText(content: string, message: Message, botId: string, botRoleIds: string[]): string {
  const me = [`<@!?${botId}>`, ...botRoleIds.map((id) => `<@&${id}>`)].join("|");
  const text = content
    .replace(new RegExp(`^(\\s*(${me}))+\\s*`), "")
    .replace(new RegExp(`(\\s*(${me}))+\\s*$`), "");
  return cleanContent(text, message.channel).trim();
}
