import type { Keyv } from "keyv";
import type { AttachmentRef, NewAttachment } from "./types.js";

/** One kept image, as the conversation's meta record lists them (oldest first). */
export interface KeptFile {
  id: string;
  /** Bytes of its base64 text, what it costs the store. */
  bytes: number;
}

/** Caps per conversation; older images are deleted to make room for new ones. */
export interface AttachmentCaps {
  /** Images kept per conversation (default 10). */
  maxAttachments: number;
  /** Bytes of images kept per conversation, base64 (default 20 MB). */
  maxAttachmentBytes: number;
}

/** Conversations listed per scope index; the oldest drop off (their images still expire by TTL). */
const MAX_INDEXED = 10_000;

/**
 * The images of conversations, each in its own key beside the messages
 * (`file:{conversation}:{epoch}:{id}`), listed in the conversation's meta
 * record so a reset can delete them, and indexed under every prefix of the
 * conversation id (`files:{prefix}`) so resetting a scope (a Slack channel)
 * finds them too.
 */
export class AttachmentKeeper {
  constructor(
    private readonly keyv: Keyv,
    private readonly caps: AttachmentCaps,
    private readonly ttlMs: number,
  ) {}

  /**
   * Writes `files` and returns the conversation's new list, the oldest
   * dropped (and deleted) while over a cap.
   */
  async keep(
    conversationId: string,
    epoch: string,
    kept: KeptFile[],
    files: NewAttachment[],
  ): Promise<KeptFile[]> {
    const list = [...kept];
    for (const f of files) {
      await this.keyv.set(fileKey(conversationId, epoch, f.id), f.data, this.ttlMs);
      list.push({ id: f.id, bytes: f.data.length });
    }
    const dropped: KeptFile[] = [];
    let bytes = list.reduce((sum, f) => sum + f.bytes, 0);
    while (
      list.length > 0 &&
      (list.length > this.caps.maxAttachments || bytes > this.caps.maxAttachmentBytes)
    ) {
      const oldest = list.shift() as KeptFile;
      bytes -= oldest.bytes;
      dropped.push(oldest);
    }
    await this.remove(conversationId, epoch, dropped);
    if (files.length > 0 && kept.length === 0) await this.index(conversationId);
    return list;
  }

  /** The base64 bytes of the ids still kept. */
  async read(
    conversationId: string,
    epoch: string,
    kept: KeptFile[],
    ids: string[],
  ): Promise<Map<string, string>> {
    const wanted = ids.filter((id) => kept.some((f) => f.id === id));
    const out = new Map<string, string>();
    if (wanted.length === 0) return out;
    const values = await this.keyv.getMany<string>(wanted.map((id) => fileKey(conversationId, epoch, id)));
    wanted.forEach((id, i) => {
      const v = values[i];
      if (typeof v === "string") out.set(id, v);
    });
    return out;
  }

  async remove(conversationId: string, epoch: string, files: KeptFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.keyv.deleteMany(files.map((f) => fileKey(conversationId, epoch, f.id)));
  }

  /** Conversations under `prefix` that kept images (maybe since reset); the index is then cleared. */
  async takeIndexed(prefix: string): Promise<string[]> {
    const ids = (await this.keyv.get<string[]>(indexKey(prefix))) ?? [];
    await this.keyv.delete(indexKey(prefix));
    return ids;
  }

  private async index(conversationId: string): Promise<void> {
    const parts = conversationId.split(":");
    for (let i = 1; i < parts.length; i++) {
      const key = indexKey(parts.slice(0, i).join(":"));
      const ids = (await this.keyv.get<string[]>(key)) ?? [];
      if (ids.includes(conversationId)) continue;
      ids.push(conversationId);
      await this.keyv.set(key, ids.slice(-MAX_INDEXED), this.ttlMs);
    }
  }
}

/** The reference part of a new attachment, for the stored message. */
export function refOf(f: NewAttachment): AttachmentRef {
  return { id: f.id, name: f.name, mediaType: f.mediaType, width: f.width, height: f.height };
}

const fileKey = (id: string, epoch: string, fileId: string) => `file:${id}:${epoch}:${fileId}`;
const indexKey = (prefix: string) => `files:${prefix}`;
