import { cleanContent, type Message } from "discord.js";
import type { AttachmentLimits } from "../../src/attachments/index.js";
import type { StateStore } from "../../src/memory/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { fetchAttachments } from "./attachments.js";

/** How long the bot keeps answering a thread without a mention after its last answer there. */
export const THREAD_FOLLOW_MS = 30 * 24 * 3600 * 1000;

/** Sent when someone mentions the bot with nothing else to say. */
export const EMPTY_HINT =
  "Ask me anything: mention me with your question (in a DM, just write it). Use /reset to start over.";

/** `discord:dm:{channel}` in DMs; `discord:{guild}:{channel or thread}` in a server. */
export function conversationIdFor(guildId: string | null, channelId: string): string {
  return guildId ? `discord:${guildId}:${channelId}` : `discord:dm:${channelId}`;
}

export function threadKey(threadId: string): string {
  return `discord:thread:${threadId}`;
}

/** What to do with one message. */
export type Decision =
  | { kind: "ignore" }
  | { kind: "hint" }
  | { kind: "answer"; incoming: Incoming; inThread: boolean };

export interface ReadOptions {
  botId: string;
  /** true: threads need a mention every time, even after the bot answered there. */
  requireMention: boolean;
  state: StateStore;
  /** What of the attachments to download (the Bot's limits). */
  attachments: AttachmentLimits;
  /** DISCORD_API_URL: attachments may come from its host too (tests, proxies). */
  apiUrl: string | undefined;
}

/**
 * Decides whether the bot answers and builds the turn. Answered: every DM; in
 * a server, a mention of the bot (or its role), a reply to one of its
 * messages, or any message in a thread it already answered in. Never: bots
 * (itself included), webhooks and system messages.
 */
export async function readMessage(message: Message, options: ReadOptions): Promise<Decision> {
  const { botId } = options;
  if (message.author.bot || message.webhookId || message.system) return { kind: "ignore" };
  // guildId rather than inGuild(): a server message must never pass for a DM, even with the guild uncached.
  const inGuild = message.guildId !== null;
  const botRoleIds = message.mentions.roles.filter((r) => r.tags?.botId === botId).map((r) => r.id);
  const inThread = message.channel.isThread();
  if (inGuild) {
    const mentioned = message.mentions.users.has(botId) || botRoleIds.length > 0;
    const repliesToBot = message.mentions.repliedUser?.id === botId;
    const follows =
      inThread &&
      !options.requireMention &&
      (await options.state.get<boolean>(threadKey(message.channelId))) === true;
    if (!mentioned && !repliesToBot && !follows) return { kind: "ignore" };
  }

  const text = readableText(message.content, message, botId, botRoleIds);
  if (text.length === 0 && message.attachments.size === 0) return { kind: "hint" };
  const files = await fetchAttachments(message.attachments.values(), options.attachments, options.apiUrl);
  return {
    kind: "answer",
    inThread,
    incoming: {
      conversationId: conversationIdFor(message.guildId, message.channelId),
      author: { id: message.author.id, name: message.member?.displayName ?? message.author.displayName },
      text,
      platform: "discord",
      ...(files.length > 0 ? { files } : {}),
    },
  };
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
