import { randomUUID } from "node:crypto";
import { type AttachmentLimits, type IncomingFile, prepareFiles } from "../attachments/index.js";
import { VisionUnsupportedError } from "../errors.js";
import type { ChatMessage, ChatModel, ContentPart, ImageMediaType } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { ConversationStore, NewAttachment, StoredMessage } from "../memory/index.js";
import type { StreamItem } from "../stream/index.js";
import { NO_VISION_NOTE } from "../texts.js";
import type { Turn } from "./types.js";

/** The question's files read: their text for the model, the images to keep, notes for the user. */
interface PreparedQuestion {
  filesText: string;
  attachments: NewAttachment[];
  notes: string[];
}

/** Reads the message's files (src/attachments/) into text and images. */
async function prepareQuestion(
  files: IncomingFile[] | undefined,
  limits: AttachmentLimits,
): Promise<PreparedQuestion> {
  if (!files?.length) return { filesText: "", attachments: [], notes: [] };
  const prepared = await prepareFiles(files, limits);
  return {
    filesText: prepared.text,
    attachments: prepared.images.map((image) => ({
      id: randomUUID(),
      name: image.name,
      mediaType: image.mediaType,
      width: image.width,
      height: image.height,
      data: image.data.toString("base64"),
    })),
    notes: prepared.notes,
  };
}

/**
 * Models that refused images in this process although configured with
 * vision: later turns send them none, rather than a request that fails first.
 */
const refusedImages = new WeakSet<ChatModel>();

/** Whether to send images to `model`: it has vision, and has not refused them. */
function seesImages(model: ChatModel): boolean {
  return model.vision && !refusedImages.has(model);
}

/**
 * The bytes of every image the history still references and the store still
 * keeps; undefined for a model that is sent no images.
 */
export async function imagesFor(
  model: ChatModel,
  store: ConversationStore,
  incoming: { conversationId: string },
  history: StoredMessage[],
): Promise<Map<string, string> | undefined> {
  if (!seesImages(model)) return undefined;
  const ids = history.flatMap((m) => m.attachments?.map((a) => a.id) ?? []);
  if (ids.length === 0) return new Map();
  return store.attachments(incoming.conversationId, ids);
}

/** A user message with its kept images as image parts after its text; one no longer kept is named. */
export function withImages(
  message: ChatMessage,
  stored: StoredMessage,
  images: Map<string, string>,
): ChatMessage {
  if (!stored.attachments?.length || typeof message.content !== "string") return message;
  const parts: ContentPart[] = [{ type: "text", text: message.content }];
  for (const a of stored.attachments) {
    const data = images.get(a.id);
    if (data === undefined) parts.push({ type: "text", text: `[image ${a.name} is no longer kept]` });
    else
      parts.push({
        type: "image",
        mediaType: a.mediaType as ImageMediaType,
        data,
        width: a.width,
        height: a.height,
        name: a.name,
      });
  }
  return { ...message, content: parts };
}

/** The question as history holds it, for a turn that stores nothing (memory off in its place). */
export function unstoredQuestion(turn: Turn, at: number): StoredMessage {
  const { text, author } = turn.incoming;
  const refs = (turn.attachments ?? []).map(({ data: _data, ...ref }) => ref);
  return {
    role: "user",
    text,
    author,
    at,
    ...(turn.filesText ? { filesText: turn.filesText } : {}),
    ...(refs.length > 0 ? { attachments: refs } : {}),
  };
}

/** The question's own images (nothing is stored without memory); undefined for a model sent none. */
export function imagesOfQuestion(turn: Turn): Map<string, string> | undefined {
  if (!seesImages(turn.model.model)) return undefined;
  return new Map((turn.attachments ?? []).map((a) => [a.id, a.data]));
}

/** The message's files: their text into the question, images to keep, notes for the user (a Bot step). */
export async function readFiles(turn: Turn, limits: AttachmentLimits): Promise<void> {
  const prepared = await prepareQuestion(turn.incoming.files, limits);
  turn.filesText = prepared.filesText;
  turn.attachments = prepared.attachments;
  turn.notes = prepared.notes;
  if (prepared.attachments.length > 0 && !seesImages(turn.model.model)) turn.notes.push(NO_VISION_NOTE);
}

/**
 * The answer `stream` gives, with the notes about the files as notices
 * (shown under the answer, never stored with it). A model that refuses images
 * before its first delta is asked once more without them, and the user reads
 * that it cannot see images; the text part is still answered.
 */
export async function* withFileNotes(
  turn: Turn,
  messages: ChatMessage[],
  stream: (messages: ChatMessage[]) => AsyncIterable<StreamItem>,
  log: Logger,
): AsyncGenerator<StreamItem, void, undefined> {
  for (const note of turn.notes ?? []) yield notice(note);
  try {
    yield* stream(messages);
  } catch (err) {
    if (!(err instanceof VisionUnsupportedError) || turn.deltas > 0 || !hasImages(messages)) throw err;
    log.warn(
      { conversationId: turn.incoming.conversationId, err },
      "the model refused images; none are sent to it from now on (set LLM_VISION=false to say so)",
    );
    refusedImages.add(turn.model.model);
    turn.error = undefined;
    if (!turn.notes?.includes(NO_VISION_NOTE)) yield notice(NO_VISION_NOTE);
    yield* stream(stripImages(messages));
  }
}

/** Whether any message carries an image part. */
function hasImages(messages: ChatMessage[]): boolean {
  return messages.some((m) => typeof m.content !== "string" && m.content.some((p) => p.type === "image"));
}

/** The messages without their images (each message's text already names its images). */
function stripImages(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) =>
    typeof m.content === "string" ? m : { ...m, content: m.content.filter((p) => p.type !== "image") },
  );
}

/** A note shown under the answer, in italics. */
function notice(note: string): StreamItem {
  return { type: "notice", text: `_${note}_` };
}
