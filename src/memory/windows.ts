import { randomUUID } from "node:crypto";
import type { SharedWindows } from "./backend.js";
import { ownTable, type SqlQuery } from "./sql-table.js";

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

/** The windows' own table on Postgres: one row per window, its grant times in an array. */
const TABLE = "chatbot_windows";
/** Expired windows are deleted at most this often, on a take (SQL has no native expiry). */
const PURGE_EVERY_MS = 3_600_000;
/** Postgres's clock in ms, read where the row is locked, so replicas' clocks need not agree. */
const NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/**
 * The same sliding windows in Postgres: one statement per take, an
 * `INSERT … ON CONFLICT DO UPDATE` that locks the window's row, so two
 * replicas taking at once are serialised by the row lock and each sees the
 * other's grant (the update always runs on the row's latest version). The
 * grant time is read from Postgres's clock after the lock is taken. Commits
 * are asynchronous (local to the statement): a grant is not worth an fsync,
 * and a database crash losing the last ones only lets a few edits more through.
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
export function postgresWindows(query: SqlQuery): SharedWindows {
  const table = ownTable(query, {
    name: TABLE,
    create: `CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, grants BIGINT[] NOT NULL,
       paused_until BIGINT NOT NULL, granted TEXT, expires BIGINT NOT NULL)`,
    purge: `DELETE FROM ${TABLE} WHERE expires < ${NOW_MS}`,
    purgeEveryMs: PURGE_EVERY_MS,
  });
  const asyncCommit = "CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";
  return {
    take: async (key, limit, perMs) => {
      await table.ready();
      const token = randomUUID();
      const [row] = await query(
        `INSERT INTO ${TABLE} AS w (key, grants, paused_until, granted, expires)
         SELECT $1, ARRAY[c.now], 0, $2, c.now + $4 FROM (SELECT ${NOW_MS} AS now) c ${asyncCommit}
         ON CONFLICT (key) DO UPDATE SET (grants, granted, expires) = (
           SELECT CASE WHEN t.ok THEN t.live || t.now ELSE t.live END,
                  CASE WHEN t.ok THEN $2 ELSE NULL END,
                  greatest(w.expires, t.now + $4)
           FROM (SELECT n.now, l.live, (w.paused_until <= n.now AND cardinality(l.live) < $3) AS ok
                 FROM (SELECT ${NOW_MS} AS now) n,
                 LATERAL (SELECT ARRAY(SELECT g FROM unnest(w.grants) g WHERE g > n.now - $4 ORDER BY g) AS live) l) t)
         RETURNING w.granted = $2 AS ok, w.paused_until - ${NOW_MS} AS paused, w.grants[1] + $4 - ${NOW_MS} AS oldest`,
        [key, token, limit, perMs],
      );
      table.purge(Date.now());
      if (!row || row.ok === true) return 0;
      const paused = Number(row.paused);
      return paused > 0 ? paused : Math.max(1, Number(row.oldest));
    },
    pause: async (key, ms) => {
      await table.ready();
      const pauseMs = Math.max(1, Math.ceil(ms));
      await query(
        `INSERT INTO ${TABLE} AS w (key, grants, paused_until, granted, expires)
         SELECT $1, '{}', c.now + $2, NULL, c.now + $2 FROM (SELECT ${NOW_MS} AS now) c ${asyncCommit}
         ON CONFLICT (key) DO UPDATE SET paused_until = greatest(w.paused_until, excluded.paused_until),
           expires = greatest(w.expires, excluded.expires)`,
        [key, pauseMs],
      );
    },
  };
}
