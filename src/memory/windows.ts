import { randomUUID } from "node:crypto";
import type { SharedWindows } from "./backend.js";

type RedisEval = (script: string, keys: string[], args: string[]) => Promise<unknown>;

/**
 * A sliding window of at most ARGV[1] grants per ARGV[2] ms, counted in Redis
 * for every replica at once, using Redis's own clock so replicas' clocks need
 * not agree. Returns 0 when granted, else how long to wait (ms). A pause key
 * (set after a 429) blocks every replica until it expires.
 */
const TAKE = `
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], per)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + per - now)
`;

const PAUSE =
  "local left = redis.call('PTTL', KEYS[1]) if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end return 1";

/** Shared windows in Redis: a sorted set of grant times per window, trimmed to the window on each take. */
export function redisWindows(evaluate: RedisEval): SharedWindows {
  return {
    take: async (key, limit, perMs) =>
      Number(
        await evaluate(
          TAKE,
          [`chatbot:window:${key}`, `chatbot:window:${key}:paused`],
          [String(limit), String(perMs), randomUUID()],
        ),
      ),
    pause: async (key, ms) => {
      await evaluate(PAUSE, [`chatbot:window:${key}:paused`], [String(Math.max(1, Math.ceil(ms)))]);
    },
  };
}
