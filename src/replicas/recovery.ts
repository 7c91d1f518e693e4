import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import type { AtomicOps, StateStore } from "../memory/index.js";
import { closeEarly, type EditableReply, type MessageRef, type Render } from "../stream/index.js";
import { RESTART_NOTE } from "../texts.js";
import { LeaseLock } from "./lock.js";

/** Where a platform message is, in the adapter's own terms (Slack: team + channel + ts; Discord: channel + id). */
export type MessageLocation = Record<string, string>;

/**
 * How a platform finishes a message another process left streaming: its size
 * limit and text format, and an edit that draws on the platform's live edit
 * budget (at final priority), like every other edit.
 */
export interface MessageFinisher {
  readonly maxChars: number;
  render?: Render;
  /**
   * Whether this process can reach the message at `location` (Slack: its
   * workspace is the bot token's); absent: every message of the platform.
   * Messages it cannot reach are left for a process that can.
   */
  owns?(location: MessageLocation): boolean;
  /** Replaces the text of the message at `location` with `text` (already rendered). */
  finish(location: MessageLocation, text: string): Promise<void>;
}

interface Entry {
  platform: string;
  location: MessageLocation;
  /** The Markdown the message shows, without its cursor (the renderer says: Update.settled). */
  settled: string;
}

export interface RecoveryOptions {
  /**
   * How often this process says it is alive (ms; default 1,500). It counts as
   * dead after 3 missed beats: a killed process's messages are finished within
   * about 3 beats and a sweep, and an event loop may stall for 2 beats.
   */
  heartbeatMs?: number;
  /** How often messages of dead processes are looked for (ms; default 2,000; 0: only at start). */
  sweepEveryMs?: number;
  /** Appended to such a message. Default "⚠️ " + RESTART_NOTE. */
  note?: string;
  log?: Logger;
}

const OWNERS = "inflight:owners";
const KEEP_MS = 7 * 24 * 3600 * 1000;

/**
 * Crash recovery. Remembers, in the shared store, every message this process
 * is still streaming (one small write per post and edit), so that a crash
 * never leaves a cursor forever: a sweep, at start and then every
 * `sweepEveryMs`, finds messages of processes whose heartbeat stopped and
 * finishes them, with the text they showed and a note, through the finisher
 * of their platform. A single process finds its own previous run's messages
 * after a restart.
 */
export class CrashRecovery {
  readonly ownerId = randomUUID();
  private readonly heartbeatMs: number;
  private readonly sweepEveryMs: number;
  private readonly note: string;
  private readonly lock: LeaseLock;
  /** The messages this process streams, each with the text last written for it. */
  private readonly streaming = new Map<string, string>();
  private readonly finishers = new Map<string, MessageFinisher>();
  private indexWrite: Promise<void> = Promise.resolve();
  private beatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly state: StateStore,
    atomic: AtomicOps,
    private readonly options: RecoveryOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1_500;
    this.sweepEveryMs = options.sweepEveryMs ?? 2_000;
    this.note = options.note ?? `⚠️ ${RESTART_NOTE}`;
    this.lock = new LeaseLock(atomic, { leaseMs: 10_000, log: options.log });
  }

  /**
   * Registers this process and starts its heartbeat; from then on a crash of
   * this process is noticed by the others. Call before any message is tracked.
   */
  async start(): Promise<void> {
    await this.beat();
    await this.editOwners((owners) => [...new Set([...owners, this.ownerId])]);
    this.started = true;
    this.beatTimer = setInterval(() => void this.beat().catch(() => undefined), this.heartbeatMs);
    this.beatTimer.unref();
  }

  /**
   * Finishes messages of dead processes with these platforms' finishers: now,
   * and then every `sweepEveryMs`. Messages of other platforms are left for a
   * process that runs them. Resolves with how many the first sweep finished.
   */
  watch(finishers: Record<string, MessageFinisher>): Promise<number> {
    for (const [platform, finisher] of Object.entries(finishers)) this.finishers.set(platform, finisher);
    clearInterval(this.sweepTimer);
    const sweep = () =>
      this.sweep()
        .then((n) => {
          if (n > 0)
            this.options.log?.info({ finished: n }, "finished messages a stopped process left streaming");
          return n;
        })
        .catch((err) => {
          this.options.log?.warn({ err }, "could not finish messages left streaming");
          return 0;
        });
    if (this.sweepEveryMs > 0) {
      this.sweepTimer = setInterval(sweep, this.sweepEveryMs);
      this.sweepTimer.unref();
    }
    return sweep();
  }

  /** Stops the heartbeat and unregisters (after a clean shutdown nothing of ours is left to finish). */
  async stop(): Promise<void> {
    clearInterval(this.beatTimer);
    clearInterval(this.sweepTimer);
    this.started = false;
    if (this.streaming.size === 0) {
      await this.editOwners((owners) => owners.filter((o) => o !== this.ownerId));
      await this.state.delete(aliveKey(this.ownerId));
    }
  }

  /** Wraps a reply so each of its messages is remembered until the renderer says it is final. */
  track(platform: string, reply: EditableReply, locate: (ref: MessageRef) => MessageLocation): EditableReply {
    const note = (ref: MessageRef, settled: string | undefined) =>
      this.record(platform, locate(ref), settled).catch((err) =>
        this.options.log?.warn({ err }, "could not remember a message being streamed"),
      );
    const tracked: EditableReply = {
      maxChars: reply.maxChars,
      budget: reply.budget,
      ...(reply.postBudget ? { postBudget: reply.postBudget } : {}),
      post: async (text, update) => {
        const ref = await reply.post(text, update);
        await note(ref, update.final ? undefined : update.settled);
        return ref;
      },
      edit: async (ref, text, update) => {
        await reply.edit(ref, text, update);
        await note(ref, update.final ? undefined : update.settled);
      },
    };
    if (reply.render) tracked.render = (markdown) => (reply.render as Render).call(reply, markdown);
    return tracked;
  }

  /**
   * Finishes the messages of every process that stopped beating and forgets
   * them. Returns how many it finished.
   */
  async sweep(): Promise<number> {
    const owners = (await this.state.get<string[]>(OWNERS)) ?? [];
    let finished = 0;
    for (const owner of owners) {
      if (owner === this.ownerId || (await this.state.get(aliveKey(owner))) !== undefined) continue;
      const ids = (await this.state.get<string[]>(indexKey(owner))) ?? [];
      const entries = await Promise.all(ids.map((id) => this.state.get<Entry>(entryKey(owner, id))));
      // Entries of a platform this process does not run (a Discord-only shard sweeping Slack
      // messages) stay for a process that does, unclaimed, so it never waits for this one.
      if (entries.length > 0 && !entries.some((e) => e && this.finisherOf(e))) continue;
      // One sweeper per dead owner, even with several replicas sweeping at once. Briefly: a
      // sweeper that dies mid-sweep must not hold the rest up (a message finished twice by two
      // sweepers gets the same text twice, which nobody sees).
      if (!(await this.state.claim(`inflight:sweep:${owner}`, this.heartbeatMs * 2))) continue;
      const left: string[] = [];
      for (const [i, id] of ids.entries()) {
        const entry = entries[i];
        if (!entry) continue;
        const finisher = this.finisherOf(entry);
        if (!finisher) {
          left.push(id);
          continue;
        }
        try {
          const text = closeEarly(entry.settled.trimEnd(), finisher.maxChars, finisher.render, this.note);
          await finisher.finish(entry.location, text);
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
        // Handed on at once: a process that runs their platform need not wait for the claim to expire.
        await this.state.delete(`inflight:sweep:${owner}`);
        continue;
      }
      await this.state.delete(indexKey(owner));
      await this.editOwners((list) => list.filter((o) => o !== owner));
    }
    return finished;
  }

  /** The finisher that can reach this message here, if any. */
  private finisherOf(entry: Entry): MessageFinisher | undefined {
    const finisher = this.finishers.get(entry.platform);
    return finisher && finisher.owns?.(entry.location) !== false ? finisher : undefined;
  }

  /** `settled` undefined: the message is final, nothing to recover. */
  private async record(
    platform: string,
    location: MessageLocation,
    settled: string | undefined,
  ): Promise<void> {
    const id = `${platform}:${Object.values(location).join(":")}`;
    if (settled !== undefined) {
      // An edit that changed only the cursor or a status line leaves the same text to recover.
      if (this.streaming.get(id) === settled) return;
      const known = this.streaming.has(id);
      await this.state.set<Entry>(entryKey(this.ownerId, id), { platform, location, settled }, KEEP_MS);
      this.streaming.set(id, settled);
      if (!known) await this.writeIndex();
    } else if (this.streaming.delete(id)) {
      await this.state.delete(entryKey(this.ownerId, id));
      await this.writeIndex();
    }
  }

  /** Index writes of this process, one at a time and always the latest set. */
  private writeIndex(): Promise<void> {
    this.indexWrite = this.indexWrite
      .catch(() => undefined)
      .then(() => this.state.set(indexKey(this.ownerId), [...this.streaming.keys()], KEEP_MS));
    return this.indexWrite;
  }

  private async beat(): Promise<void> {
    await this.state.set(aliveKey(this.ownerId), 1, this.heartbeatMs * 3);
    if (!this.started) return; // start() registers
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
