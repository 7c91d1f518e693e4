import type { StateStore } from "../memory/index.js";

/** A thumbs up or down. */
export type FeedbackValue = "up" | "down";

/** One person's vote on one answer message: the latest press counts. */
export interface FeedbackVote {
  /** "slack", "discord", ... */
  platform: string;
  /** The conversation the answer belongs to (the adapter's id). */
  conversationId: string;
  /** The platform's id of the answer message (Slack: `channel:ts`). */
  messageId: string;
  /** Who voted, as the platform knows them. */
  userId: string;
  value: FeedbackValue;
  /** When the latest press was recorded, ms since the epoch. */
  at: number;
}

export interface FeedbackStoreOptions {
  /** How long a vote is kept after its latest press (ms; default 365 days). */
  ttlMs?: number;
  /** Called once a press is stored, with the vote it replaced (none: a first vote). */
  onVote?: (vote: FeedbackVote, previous: FeedbackValue | undefined) => void;
}

/** Slots looked at past the last known one when listing (a replica may have claimed one and died). */
const PROBE_PAST_HEAD = 16;

/**
 * Feedback votes in the bot's store, beside its conversations: one vote per
 * person per answer message, changed by pressing the other button. Each vote
 * is its own key; a small append-only log of vote keys (slots claimed
 * atomically, so replicas never overwrite each other) lets `votes()` list
 * them all for an export, oldest first.
 */
export class FeedbackStore {
  private readonly ttlMs: number;

  constructor(
    private readonly state: StateStore,
    private readonly options: FeedbackStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 365 * 24 * 3_600_000;
  }

  /** Stores a press; returns the value it replaced (undefined for a first vote). */
  async record(vote: FeedbackVote): Promise<FeedbackValue | undefined> {
    const key = voteKey(vote);
    const previous = await this.state.get<FeedbackVote>(key);
    await this.state.set(key, vote, this.ttlMs);
    if (!previous) await this.log(key);
    this.options.onVote?.(vote, previous?.value);
    return previous?.value;
  }

  /** The current vote of `userId` on a message, if any. */
  async get(platform: string, messageId: string, userId: string): Promise<FeedbackVote | undefined> {
    return this.state.get<FeedbackVote>(voteKey({ platform, messageId, userId }));
  }

  /** Every vote kept, each once with its latest value, in the order they were first cast. */
  async *votes(): AsyncGenerator<FeedbackVote> {
    const head = (await this.state.get<number>(HEAD)) ?? 0;
    const seen = new Set<string>();
    let misses = 0;
    for (let n = 0; n < head || misses < PROBE_PAST_HEAD; n++) {
      const key = await this.state.get<string>(slotKey(n));
      if (key === undefined) {
        if (n >= head) misses++;
        continue;
      }
      misses = 0;
      if (seen.has(key)) continue;
      seen.add(key);
      const vote = await this.state.get<FeedbackVote>(key);
      if (vote) yield vote;
    }
  }

  /** Appends a vote key to the log: the first free slot from the last known head. */
  private async log(key: string): Promise<void> {
    let n = (await this.state.get<number>(HEAD)) ?? 0;
    while (!(await this.state.claim(`feedback:slot-claim:${n}`, this.ttlMs))) n++;
    await this.state.set(slotKey(n), key, this.ttlMs);
    await this.state.set(HEAD, n + 1, this.ttlMs);
  }
}

const HEAD = "feedback:head";
const slotKey = (n: number) => `feedback:slot:${n}`;
const voteKey = (v: Pick<FeedbackVote, "platform" | "messageId" | "userId">) =>
  `feedback:vote:${v.platform}:${v.messageId}:${v.userId}`;
