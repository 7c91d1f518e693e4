import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import type { EditableReply, MessageRef } from "../stream/types.js";
import type { AtomicOps } from "./backend.js";
import { LeaseLock } from "./lock.js";
import type { StateStore } from "./types.js";

/** Where a platform message is, in the adapter's own terms (Slack: channel + ts; Discord: channel + id). */
export type MessageLocation = Record<string, string>;

/** Ends a message another process left with its cursor: edit it to `text` (already without cursor). */
export type Finisher = (location: MessageLocation, text: string) => Promise<void>;

interface Entry {
  platform: string;
  location: MessageLocation;
  /** The last text sent, cursor included. */
  text: string;
}

export interface InflightOptions {
  /** How often this process says it is alive (ms; default 10,000). It counts as dead after 3 missed beats. */
  heartbeatMs?: number;
  /** The cursor glyph, removed from a message when it is finished for a dead process. */
  cursor: string;
  /** Appended to such a message. */
  note?: string;
  log?: Logger;
}

const OWNERS = "inflight:owners";
const DEFAULT_NOTE = "⚠️ The bot restarted before finishing this answer. Please ask again.";
const KEEP_MS = 7 * 24 * 3600 * 1000;

/**
 * Remembers, in the shared store, every message this process is still
 * streaming (one small write per post and edit), so that a crash never leaves
 * a cursor forever: any process's `sweep` finds messages of processes whose
 * heartbeat stopped and finishes them with a note. A single process finds its
 * own previous run's messages after a restart.
 */
export class InflightMessages {
  readonly ownerId = randomUUID();
  private readonly heartbeatMs: number;
  private readonly cursor: string;
  private readonly note: string;
  private readonly lock: LeaseLock;
  private readonly ids = new Set<string>();
  private indexWrite: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: StateStore,
    atomic: AtomicOps,
    private readonly options: InflightOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.cursor = options.cursor;
    this.note = options.note ?? DEFAULT_NOTE;
    this.lock = new LeaseLock(atomic, { leaseMs: 10_000, log: options.log });
  }

  /** Registers this process and starts its heartbeat. */
  async start(): Promise<void> {
    await this.beat();
    await this.editOwners((owners) => [...new Set([...owners, this.ownerId])]);
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and unregisters (after a clean shutdown nothing of ours is left to finish). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.ids.size === 0) {
      await this.editOwners((owners) => owners.filter((o) => o !== this.ownerId));
      await this.state.delete(aliveKey(this.ownerId));
    }
  }

  /** Wraps a reply so each of its messages is remembered while it shows the cursor. */
  track(platform: string, reply: EditableReply, locate: (ref: MessageRef) => MessageLocation): EditableReply {
    const note = (ref: MessageRef, text: string) =>
      this.record(platform, locate(ref), text).catch((err) =>
        this.options.log?.warn({ err }, "could not remember a message being streamed"),
      );
    return {
      maxChars: reply.maxChars,
      budget: reply.budget,
      ...(reply.postBudget ? { postBudget: reply.postBudget } : {}),
      post: async (text) => {
        const ref = await reply.post(text);
        await note(ref, text);
        return ref;
      },
      edit: async (ref, text) => {
        await reply.edit(ref, text);
        await note(ref, text);
      },
    };
  }

  /**
   * Finishes the messages of every process that stopped beating, with the
   * platform's finisher, and forgets them. Returns how many it finished.
   */
  async sweep(finishers: Record<string, Finisher>): Promise<number> {
    const owners = (await this.state.get<string[]>(OWNERS)) ?? [];
    let finished = 0;
    for (const owner of owners) {
      if (owner === this.ownerId || (await this.state.get(aliveKey(owner))) !== undefined) continue;
      // One sweeper per dead owner, even with several replicas sweeping at once.
      if (!(await this.state.claim(`inflight:sweep:${owner}`, 60_000))) continue;
      const ids = (await this.state.get<string[]>(indexKey(owner))) ?? [];
      // Entries of a platform this process does not run (a Discord-only shard sweeping Slack
      // messages) stay for a process that does; the claim expires and it takes over.
      const left: string[] = [];
      for (const id of ids) {
        const entry = await this.state.get<Entry>(entryKey(owner, id));
        if (!entry) continue;
        const finish = finishers[entry.platform];
        if (!finish) {
          left.push(id);
          continue;
        }
        try {
          await finish(entry.location, this.closed(entry.text));
          finished++;
        } catch (err) {
          this.options.log?.warn(
            { err, location: entry.location },
            "could not finish a message left by a stopped process",
          );
        }
        await this.state.delete(entryKey(owner, id));
      }
      if (left.length > 0) {
        await this.state.set(indexKey(owner), left, KEEP_MS);
        continue;
      }
      await this.state.delete(indexKey(owner));
      await this.editOwners((list) => list.filter((o) => o !== owner));
    }
    return finished;
  }

  /**
   * The text without its cursor, and the note. The cursor is not always last:
   * an open code fence or ** is closed after it in intermediate texts.
   */
  private closed(text: string): string {
    const at = text.lastIndexOf(this.cursor);
    const body = at === -1 ? text : text.slice(0, at) + text.slice(at + this.cursor.length);
    return `${body.trimEnd()}\n\n${this.note}`;
  }

  private async record(platform: string, location: MessageLocation, text: string): Promise<void> {
    const id = `${platform}:${Object.values(location).join(":")}`;
    // Intermediate texts carry the cursor (not always last: a fence or ** may be closed after it).
    if (text.includes(this.cursor)) {
      await this.state.set<Entry>(entryKey(this.ownerId, id), { platform, location, text }, KEEP_MS);
      if (!this.ids.has(id)) {
        this.ids.add(id);
        await this.writeIndex();
      }
    } else if (this.ids.delete(id)) {
      // Finished (final edit, or a part closed at a split): nothing to recover.
      await this.state.delete(entryKey(this.ownerId, id));
      await this.writeIndex();
    }
  }

  /** Index writes of this process, one at a time and always the latest set. */
  private writeIndex(): Promise<void> {
    this.indexWrite = this.indexWrite
      .catch(() => undefined)
      .then(() => this.state.set(indexKey(this.ownerId), [...this.ids], KEEP_MS));
    return this.indexWrite;
  }

  private async beat(): Promise<void> {
    await this.state.set(aliveKey(this.ownerId), 1, this.heartbeatMs * 3);
    if (!this.timer) return; // start() registers
    // A stall longer than three beats makes others take us for dead and sweep us out: come back.
    const owners = (await this.state.get<string[]>(OWNERS)) ?? [];
    if (!owners.includes(this.ownerId)) {
      this.options.log?.warn("this process was taken for stopped; registering again");
      await this.editOwners((list) => [...new Set([...list, this.ownerId])]);
      await this.writeIndex();
    }
  }

  private async editOwners(change: (owners: string[]) => string[]): Promise<void> {
    const lease = await this.lock.acquire(OWNERS);
    try {
      const owners = (await this.state.get<string[]>(OWNERS)) ?? [];
      await this.state.set(OWNERS, change(owners), KEEP_MS);
    } finally {
      await lease.release();
    }
  }
}

const aliveKey = (owner: string) => `inflight:alive:${owner}`;
const indexKey = (owner: string) => `inflight:index:${owner}`;
const entryKey = (owner: string, id: string) => `inflight:msg:${owner}:${id}`;
