/**
 * Discord's conversation ids and the adapter's state keys, built and parsed
 * here only:
 *
 * - `discord:dm:{channel}`: a DM is one conversation;
 * - `discord:{guild}:{thread}`: a thread or forum post is one conversation;
 * - `discord:{guild}:{channel}:{message}`: in a plain server channel, each
 *   mention that is not a reply to the bot starts a conversation of its own
 *   (named by that message), continued by replying to the bot's answers (the
 *   reply chain). `/reset` there forgets the scope `discord:{guild}:{channel}`.
 */

/** How long the bot keeps following a thread, a reply chain and the controls of an answer. */
export const FOLLOW_MS = 30 * 24 * 3600 * 1000;

export function dmConversation(channelId: string): string {
  return `discord:dm:${channelId}`;
}

/** A thread or forum post (its id is a channel id). */
export function threadConversation(guildId: string, threadId: string): string {
  return `discord:${guildId}:${threadId}`;
}

/** A conversation in a plain server channel, started by the message `startedBy`. */
export function channelConversation(guildId: string, channelId: string, startedBy: string): string {
  return `${channelScope(guildId, channelId)}:${startedBy}`;
}

/** Every conversation of a plain channel (ConversationStore.resetScope, TurnTracker.stopScope). */
export function channelScope(guildId: string, channelId: string): string {
  return `discord:${guildId}:${channelId}`;
}

/** Whether replies to the bot's answers continue the conversation (a plain channel's, not a thread's or DM's). */
export function isReplyChain(conversationId: string): boolean {
  const parts = conversationId.split(":");
  return parts.length === 4 && parts[1] !== "dm";
}

/** State key: the bot answered in this thread (it follows it, and has read what came before). */
export function threadKey(threadId: string): string {
  return `discord:thread:${threadId}`;
}

/** State key: the conversation a message of the bot's belongs to (the reply chain). */
export function answerKey(messageId: string): string {
  return `discord:answer:${messageId}`;
}
