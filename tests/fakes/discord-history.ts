import { invalidForm, rateLimited } from "./discord-checks.js";
import type { RestAnswer } from "./discord-interactions.js";
import type { FakeMessage } from "./discord-rest.js";

/**
 * Get Channel Messages returns at most this many (default 50).
 * @see https://discord.com/developers/docs/resources/message#get-channel-messages
 */
const HISTORY_MAX = 100;
const HISTORY_DEFAULT = 50;

/** Get Channel Messages: a channel's messages newest first, `before` a message id, at most `limit`. */
export function channelHistory(
  messages: Iterable<FakeMessage>,
  channelId: string,
  query: Record<string, string>,
): RestAnswer {
  const limit = query.limit === undefined ? HISTORY_DEFAULT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_MAX) {
    return [400, invalidForm("limit", "NUMBER_TYPE_MAX", `int value should be <= ${HISTORY_MAX}`)];
  }
  const before = query.before === undefined ? undefined : BigInt(query.before);
  const found = [...messages]
    .filter((m) => m.channelId === channelId && (before === undefined || BigInt(m.id) < before))
    .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
    .slice(0, limit);
  return [200, found.map((m) => m.payload)];
}

/** Discord's limit on message creates and edits in one channel, which the fake can enforce (429 beyond). */
export interface ChannelMessageLimit {
  requests: number;
  perMs: number;
}

/** Counts a channel's accepted message creates and edits in a sliding window; 429 beyond the limit. */
export class ChannelLimiter {
  /** Per channel: when its accepted requests arrived (ms). */
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly limit_?: ChannelMessageLimit) {}

  limit(channelId: string, send: () => RestAnswer): RestAnswer {
    const limit = this.limit_;
    if (!limit) return send();
    const now = Date.now();
    const recent = (this.sent.get(channelId) ?? []).filter((t) => t > now - limit.perMs);
    this.sent.set(channelId, recent);
    if (recent.length >= limit.requests) return rateLimited((recent[0]! + limit.perMs - now) / 1000);
    const answer = send();
    if (answer[0] < 300) recent.push(now);
    return answer;
  }
}
