import { randomUUID } from "node:crypto";
import type { Keyv } from "keyv";
import { StoreError } from "../errors.js";
import type { Logger } from "../log.js";
import { type AttachmentCaps, AttachmentKeeper, type KeptFile, refOf } from "./attachments.js";
import { type AtomicOps, type Backend, type Coordination, openBackend } from "./backend.js";
import type { ConversationStore, MessageSlot, NewAttachment, StateStore, StoredMessage } from "./types.js";

export interface StoreOptions {
  /** Messages kept per conversation; older ones are no longer read (default 100). */
  maxMessages: number;
  /** A conversation, a message and a reset marker live this long after their last write (ms). */
  ttlMs: number;
  log?: Logger;
  /** How often expired rows are purged on backends without native expiry (ms; default 1 h; 0 = never). */
  purgeIntervalMs?: number;
  /** Images kept per conversation and their bytes; see AttachmentCaps. Default 10 and 20 MB. */
  attachments?: Partial<AttachmentCaps>;
  /** Injected for tests. */
  now?: () => number;
}

/** Per conversation: which generation of keys is live, how many messages it has, when it began. */
interface Meta {
  epoch: string;
  count: number;
  createdAt: number;
  /** Images kept, oldest first. */
  files?: KeptFile[];
}

/**
 * ConversationStore over Keyv. Each message is its own key
 * (`conv:{id}:{epoch}:{n}`) next to a small meta record, so appending writes
 * two small values whatever the conversation's length, and reset deletes the
 * meta record only (O(1)); the old generation's keys are never read again and
 * expire by TTL. `resetScope(prefix)` writes one marker; a conversation that
 * began before its scope's marker counts as empty.
 */
export class KeyvConversationStore implements ConversationStore {
  readonly state: StateStore;
  private readonly keyv: Keyv;
  private readonly maxMessages: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly purgeTimer: NodeJS.Timeout | undefined;
  private readonly files: AttachmentKeeper;

  constructor(
    private readonly backend: Backend,
    options: StoreOptions,
  ) {
    this.keyv = backend.keyv;
    this.maxMessages = options.maxMessages;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.state = new KeyvStateStore(this.keyv, backend.coordination.atomic);
    this.files = new AttachmentKeeper(
      this.keyv,
      {
        maxAttachments: options.attachments?.maxAttachments ?? 10,
        maxAttachmentBytes: options.attachments?.maxAttachmentBytes ?? 20 * 1024 * 1024,
      },
      this.ttlMs,
    );
    const purgeIntervalMs = options.purgeIntervalMs ?? 3_600_000;
    if (purgeIntervalMs > 0 && backend.kind !== "redis") {
      const purge = () =>
        backend
          .purgeExpired()
          .then((n) => n > 0 && options.log?.debug({ purged: n }, "purged expired memory rows"))
          .catch((err) => options.log?.warn({ err }, "could not purge expired memory rows"));
      this.purgeTimer = setInterval(purge, purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  /** What replicas sharing this store coordinate through (src/replicas/). */
  get coordination(): Coordination {
    return this.backend.coordination;
  }

  async append(
    conversationId: string,
    message: StoredMessage,
    options: { ifGeneration?: string; attachments?: NewAttachment[] } = {},
  ): Promise<string | undefined> {
    return (await this.appendSlot(conversationId, message, options))?.generation;
  }

  appendSlot(
    conversationId: string,
    message: StoredMessage,
    options: { ifGeneration?: string; attachments?: NewAttachment[] } = {},
  ): Promise<MessageSlot | undefined> {
    return guard("append", async () => {
      let meta = await this.liveMeta(conversationId);
      if (options.ifGeneration !== undefined && meta?.epoch !== options.ifGeneration) return undefined;
      if (!meta) {
        const resetAt = await this.scopeResetAt(conversationId);
        meta = { epoch: randomUUID(), count: 0, createdAt: Math.max(this.now(), resetAt + 1) };
      }
      const n = meta.count;
      const files = options.attachments ?? [];
      const stored = files.length > 0 ? { ...message, attachments: files.map(refOf) } : message;
      const kept =
        files.length > 0
          ? await this.files.keep(conversationId, meta.epoch, meta.files ?? [], files)
          : meta.files;
      await this.keyv.set(messageKey(conversationId, meta.epoch, n), stored, this.ttlMs);
      await this.keyv.set(
        metaKey(conversationId),
        { ...meta, count: n + 1, ...(kept?.length ? { files: kept } : {}) },
        this.ttlMs,
      );
      return { generation: meta.epoch, index: n };
    });
  }

  rewrite(conversationId: string, slot: MessageSlot, message: StoredMessage): Promise<boolean> {
    return guard("rewrite", async () => {
      // The conversation's own meta, without its scope's reset marks (a streaming answer rewrites
      // its slot every second): a slot of a conversation whose scope was reset since is never read
      // again (history checks the marks) and expires with it.
      const meta = await this.keyv.get<Meta>(metaKey(conversationId));
      if (meta?.epoch !== slot.generation || slot.index >= meta.count) return false;
      await this.keyv.set(messageKey(conversationId, slot.generation, slot.index), message, this.ttlMs);
      return true;
    });
  }

  dropLastAnswer(conversationId: string): Promise<string | undefined> {
    return guard("dropLastAnswer", async () => {
      const meta = await this.liveMeta(conversationId);
      if (!meta || meta.count === 0) return undefined;
      const last = await this.keyv.get<StoredMessage>(messageKey(conversationId, meta.epoch, meta.count - 1));
      // The next append writes over the dropped message's key.
      if (last?.role === "assistant")
        await this.keyv.set(metaKey(conversationId), { ...meta, count: meta.count - 1 }, this.ttlMs);
      return meta.epoch;
    });
  }

  attachments(conversationId: string, ids: string[]): Promise<Map<string, string>> {
    return guard("attachments", async () => {
      const meta = await this.liveMeta(conversationId);
      if (!meta?.files) return new Map();
      return this.files.read(conversationId, meta.epoch, meta.files, ids);
    });
  }

  history(conversationId: string, limit = this.maxMessages): Promise<StoredMessage[]> {
    return guard("history", async () => {
      const meta = await this.liveMeta(conversationId);
      if (!meta || meta.count === 0) return [];
      const from = Math.max(0, meta.count - Math.min(limit, this.maxMessages));
      const keys: string[] = [];
      for (let n = from; n < meta.count; n++) keys.push(messageKey(conversationId, meta.epoch, n));
      const values = await this.keyv.getMany<StoredMessage>(keys);
      return values.filter((m): m is StoredMessage => m !== undefined && m !== null);
    });
  }

  exists(conversationId: string): Promise<boolean> {
    return guard("exists", async () => {
      const meta = await this.liveMeta(conversationId);
      return meta !== undefined && meta.count > 0;
    });
  }

  reset(conversationId: string): Promise<void> {
    return guard("reset", async () => {
      const meta = await this.keyv.get<Meta>(metaKey(conversationId));
      if (meta?.files) await this.files.remove(conversationId, meta.epoch, meta.files);
      await this.keyv.delete(metaKey(conversationId));
    });
  }

  delete(conversationId: string): Promise<void> {
    return this.reset(conversationId);
  }

  resetScope(prefix: string): Promise<void> {
    return guard("resetScope", async () => {
      const at = this.now();
      await this.keyv.set(scopeKey(prefix), at, this.ttlMs);
      // Messages of the scope's conversations are left to expire; their images are deleted now.
      for (const id of await this.files.takeIndexed(prefix)) {
        const meta = await this.keyv.get<Meta>(metaKey(id));
        if (!meta?.files || meta.createdAt > at) continue;
        // The meta record is left as it is: rewriting it could overwrite a conversation begun meanwhile.
        await this.files.remove(id, meta.epoch, meta.files);
      }
    });
  }

  /**
   * Writes and reads back one small key: whether the store can write now (for
   * /ready and start-up). Throws StoreError naming the backend's error.
   */
  probe(): Promise<void> {
    return guard("probe", async () => {
      const value = `${this.now()}:${randomUUID()}`;
      await this.keyv.set(PROBE_KEY, value, 60_000);
      if ((await this.keyv.get<string>(PROBE_KEY)) !== value)
        throw new Error("the probe key did not read back");
    });
  }

  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.backend.close();
  }

  /** Runs the backend's purge of expired rows now; returns how many went. */
  purgeExpired(): Promise<number> {
    return this.backend.purgeExpired();
  }

  private async liveMeta(conversationId: string): Promise<Meta | undefined> {
    const meta = await this.keyv.get<Meta>(metaKey(conversationId));
    if (!meta) return undefined;
    const resetAt = await this.scopeResetAt(conversationId);
    return meta.createdAt > resetAt ? meta : undefined;
  }

  /** The latest resetScope marker of any prefix of the id (`a:b:c` -> `a`, `a:b`), or -1. */
  private async scopeResetAt(conversationId: string): Promise<number> {
    const parts = conversationId.split(":");
    const prefixes: string[] = [];
    for (let i = 1; i < parts.length; i++) prefixes.push(parts.slice(0, i).join(":"));
    if (prefixes.length === 0) return -1;
    const marks = await this.keyv.getMany<number>(prefixes.map(scopeKey));
    return Math.max(-1, ...marks.map((m) => (typeof m === "number" ? m : -1)));
  }
}

/**
 * Adapter state over Keyv. `claim` is atomic in the backend itself (Redis
 * SET NX PX; SQL INSERT ... ON CONFLICT), so replicas sharing it agree on
 * who claimed first.
 */
class KeyvStateStore implements StateStore {
  constructor(
    private readonly keyv: Keyv,
    private readonly atomic: AtomicOps,
  ) {}

  get<T>(key: string): Promise<T | undefined> {
    return guard("state.get", async () => (await this.keyv.get<T>(stateKey(key))) ?? undefined);
  }

  getMany<T>(keys: string[]): Promise<Array<T | undefined>> {
    return guard("state.getMany", async () => {
      if (keys.length === 0) return [];
      const values = await this.keyv.getMany<T>(keys.map(stateKey));
      return values.map((v) => v ?? undefined);
    });
  }

  set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    return guard("state.set", async () => {
      await this.keyv.set(stateKey(key), value, ttlMs);
    });
  }

  delete(key: string): Promise<void> {
    return guard("state.delete", async () => {
      await this.keyv.delete(stateKey(key));
    });
  }

  claim(key: string, ttlMs: number): Promise<boolean> {
    return guard("state.claim", () => this.atomic.setIfAbsent(`claim:${key}`, "1", ttlMs));
  }
}

/**
 * Runs one store operation; whatever the backend throws comes out as a
 * StoreError naming the operation and the backend's error code, so a locked
 * SQLite file is reported as memory trouble, not as a model failure.
 */
async function guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof StoreError ? err : new StoreError(operation, err);
  }
}

const PROBE_KEY = "probe:writable";
const metaKey = (id: string) => `conv:${id}:meta`;
const messageKey = (id: string, epoch: string, n: number) => `conv:${id}:${epoch}:${n}`;
const scopeKey = (prefix: string) => `scope:${prefix}`;
const stateKey = (key: string) => `state:${key}`;

/** Opens the store a STORE_URL names (see openBackend). */
export function createStore(url: string, options: StoreOptions): KeyvConversationStore {
  return new KeyvConversationStore(openBackend(url), options);
}
