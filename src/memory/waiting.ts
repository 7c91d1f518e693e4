import { ownTable, type SqlQuery } from "./sql-table.js";

/**
 * Ordered waiting lists kept in the backend and shared by every process: who
 * waits for a conversation's turn, in the order their messages arrived, so
 * the turn lock can go to the earliest (src/replicas/lock.ts). A member that
 * stops renewing its place (its process died) drops out by itself.
 */
export interface WaitingLists {
  /**
   * Puts `member` in list `key` at `order` (lower goes first; ties by member),
   * or renews its place; it drops out `ttlMs` after its last join. Returns the
   * member first in the list now (this one, when it is first).
   */
  join(key: string, member: string, order: number, ttlMs: number): Promise<string>;
  /** Takes `member` out of list `key`. */
  leave(key: string, member: string): Promise<void>;
}

type RedisEval = (script: string, keys: string[], args: string[]) => Promise<unknown>;

/**
 * KEYS[1]: member -> order (a sorted set); KEYS[2]: member -> when it drops
 * out, on Redis's own clock. Members past their time are removed before the
 * head is read.
 */
const JOIN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZREM', KEYS[2], m)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return redis.call('ZRANGE', KEYS[1], 0, 0)[1]
`;

const LEAVE = "redis.call('ZREM', KEYS[1], ARGV[1]) redis.call('ZREM', KEYS[2], ARGV[1]) return 1";

/** Waiting lists in Redis: one script call per join (renew + head), one per leave. */
export function redisWaitingLists(evaluate: RedisEval): WaitingLists {
  const keys = (key: string) => [`chatbot:wait:${key}`, `chatbot:wait:${key}:until`];
  return {
    join: async (key, member, order, ttlMs) =>
      String(await evaluate(JOIN, keys(key), [member, String(order), String(Math.max(1, Math.ceil(ttlMs)))])),
    leave: async (key, member) => {
      await evaluate(LEAVE, keys(key), [member]);
    },
  };
}

const TABLE = "chatbot_waiting";
const NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
/** Rows of members that dropped out are deleted at most this often (on a leave). */
const PURGE_EVERY_MS = 60_000;

/**
 * Waiting lists in Postgres: a row per member (list, member, order, until).
 * A join upserts its row and reads the head in one statement; the statement
 * cannot see its own insert, so it counts itself in by hand. Commits are
 * asynchronous (a lost place is re-taken on the next join).
 */
export function postgresWaitingLists(query: SqlQuery): WaitingLists {
  const table = ownTable(query, {
    name: TABLE,
    create: `CREATE TABLE IF NOT EXISTS ${TABLE} (list TEXT NOT NULL, member TEXT NOT NULL,
       ord DOUBLE PRECISION NOT NULL, until BIGINT NOT NULL, PRIMARY KEY (list, member))`,
    purge: `DELETE FROM ${TABLE} WHERE until < ${NOW_MS}`,
    purgeEveryMs: PURGE_EVERY_MS,
  });
  return {
    join: async (key, member, order, ttlMs) => {
      await table.ready();
      const [row] = await query(
        `WITH up AS (
           INSERT INTO ${TABLE} (list, member, ord, until)
           SELECT $1, $2, $3::float8, ${NOW_MS} + $4::bigint
           FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
           ON CONFLICT (list, member) DO UPDATE SET ord = excluded.ord, until = excluded.until
           RETURNING member)
         SELECT member FROM (
           SELECT member, ord FROM ${TABLE} WHERE list = $1 AND member <> $2 AND until > ${NOW_MS}
           UNION ALL SELECT $2::text, $3::float8) AS waiting
         ORDER BY ord, member LIMIT 1`,
        [key, member, order, Math.max(1, Math.ceil(ttlMs))],
      );
      return String(row?.member ?? member);
    },
    leave: async (key, member) => {
      await table.ready();
      await query(`DELETE FROM ${TABLE} WHERE list = $1 AND member = $2`, [key, member]);
      table.purge(Date.now());
    },
  };
}
