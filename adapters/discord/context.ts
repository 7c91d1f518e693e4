import { type Attachment, cleanContent, type Message, MessageReferenceType, MessageType } from "discord.js";
import type { AttachmentLimits, IncomingFile } from "../../src/attachments/index.js";
import type { Logger } from "../../src/log.js";
import type { Author, StoredMessage } from "../../src/memory/index.js";
import { fetchAttachments } from "./attachments.js";
import { EMPTY_HINT } from "./texts.js";

/**
 * Earlier messages read when the bot is first mentioned in a thread or forum
 * post: one request, at most this many.
 * @see https://discord.com/developers/docs/resources/message#get-channel-messages (limit 1-100)
 */
export const CONTEXT_MESSAGES = 50;
/** The most text of earlier messages kept as context, newest first. */
export const CONTEXT_MAX_CHARS = 24_000;

/** What reading the context needs: the bot's id (its messages are answers), its cursor, a log. */
export interface ContextOptions {
  botId: string;
  cursor: string;
  log: Logger;
  /** What of a pointed-at message's attachments to download (the Bot's limits). */
  attachments: AttachmentLimits;
  /** DISCORD_API_URL: attachments may come from its host too (tests, proxies). */
  apiUrl: string | undefined;
}

/**
 * The thread's (or forum post's) messages before `message`, oldest first, as
 * context for a conversation the bot is new to: newest first up to
 * CONTEXT_MESSAGES and CONTEXT_MAX_CHARS, with their authors; the bot's own as
 * answers. Attachments are named, not read. A thread started from a message
 * begins with that message.
 */
export async function threadContext(message: Message, options: ContextOptions): Promise<StoredMessage[]> {
  const earlier = await message.channel.messages.fetch({ before: message.id, limit: CONTEXT_MESSAGES });
  const kept: StoredMessage[] = [];
  let chars = 0;
  // Newest first: what is nearest the question is what is kept.
  for (const m of earlier.values()) {
    const stored = await storedOf(m, options);
    if (!stored) continue;
    chars += stored.text.length;
    if (chars > CONTEXT_MAX_CHARS) break;
    kept.push(stored);
  }
  return kept.reverse();
}

async function storedOf(m: Message, options: ContextOptions): Promise<StoredMessage | undefined> {
  let source = m;
  if (m.type === MessageType.ThreadStarterMessage) {
    const starter = await m.fetchReference().catch(() => undefined);
    if (!starter) return undefined;
    source = starter;
  } else if (m.system) {
    return undefined;
  }
  const at = source.createdTimestamp;
  if (source.author?.id === options.botId) {
    const text = source.content.split(options.cursor).join("").trim();
    return text && text !== EMPTY_HINT ? { role: "assistant", text, at } : undefined;
  }
  const named = [...source.attachments.values()].map((a) => `[Attached file ${a.name}]`);
  const text = [readable(source, source), forwardedText(source), ...named]
    .filter((s) => s.length > 0)
    .join("\n\n");
  return text ? { role: "user", text, author: authorOf(source), at } : undefined;
}

/**
 * What a message points at, read into its question: the message it replies
 * to when that is someone else's (text and attachments), and the messages it
 * forwards (`message_reference` of type FORWARD with `message_snapshots`).
 * Empty when it points at nothing (or at the bot, whose answers the
 * conversation already holds).
 * @see https://discord.com/developers/docs/resources/message#message-reference-content-attribution-forwards
 */
export async function pointedAt(
  message: Message,
  options: ContextOptions,
): Promise<{ text: string; files: IncomingFile[] }> {
  const parts: string[] = [];
  const files: IncomingFile[] = [];
  // Their attachments are read like the message's own (images, PDFs, text files), within the same caps.
  const attach = async (from: Iterable<Attachment>) =>
    files.push(...(await fetchAttachments(from, options.attachments, options.apiUrl)));
  const reference = message.reference;
  if (reference?.type === MessageReferenceType.Forward) {
    for (const snapshot of message.messageSnapshots.values()) {
      await attach(snapshot.attachments.values());
      parts.push(section("Forwarded message:", readable(snapshot, message)));
    }
  } else if (reference?.messageId) {
    const replied = await message.fetchReference().catch((err: unknown) => {
      options.log.debug(
        { err, channelId: message.channelId },
        "Discord: could not read the replied-to message",
      );
      return undefined;
    });
    if (replied && replied.author?.id !== options.botId) {
      await attach(replied.attachments.values());
      const text = [readable(replied, message), forwardedText(replied)]
        .filter((s) => s.length > 0)
        .join("\n\n");
      parts.push(section(`In reply to this message by ${authorOf(replied).name}:`, text));
    }
  }
  return { text: parts.join("\n\n"), files };
}

/** The bot's own message a reply points at, as the answer a new conversation continues from. */
export async function repliedAnswer(message: Message, options: ContextOptions): Promise<StoredMessage[]> {
  const replied = await message.fetchReference().catch(() => undefined);
  if (!replied || replied.author?.id !== options.botId) return [];
  const text = replied.content.split(options.cursor).join("").trim();
  return text && text !== EMPTY_HINT ? [{ role: "assistant", text, at: replied.createdTimestamp }] : [];
}

/** A heading and the text quoted, so it reads apart from the question. */
function section(heading: string, text: string): string {
  const quoted = text.length > 0 ? text.replace(/^/gm, "> ") : "";
  return [heading, quoted].filter((s) => s.length > 0).join("\n");
}

/** The text of a forward's snapshots, for a message read as context. */
function forwardedText(m: Message): string {
  if (m.reference?.type !== MessageReferenceType.Forward) return "";
  return [...m.messageSnapshots.values()]
    .map((s) => readable(s, m))
    .filter((t) => t.length > 0)
    .map((t) => `Forwarded message:\n${t}`)
    .join("\n\n");
}

/**
 * The text as people read it: mentions as names, resolved in `where`'s
 * channel (a forward's snapshot is read where it was forwarded to).
 */
function readable(m: { content: string | null }, where: Message): string {
  return cleanContent(m.content ?? "", where.channel).trim();
}

function authorOf(m: Message): Author {
  return {
    id: m.author?.id ?? "unknown",
    name: m.member?.displayName ?? m.author?.displayName ?? "someone",
  };
}
