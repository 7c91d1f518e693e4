import { ownTable, type SqlQuery } from "./sql-table.js";

/**
 * Counters kept in the store and shared by every process using it: named
 * keys, each holding numeric fields that are only ever added to. Every add is
 * atomic in the backend itself (Redis HINCRBYFLOAT in one MULTI;
 * SQLite and Postgres one `INSERT … ON CONFLICT DO UPDATE SET value = value +
 * excluded.value`), so replicas finishing turns at once never lose an
 * increment. Usage (src/usage/) counts tokens and cost with it.
 */
export interface Counters {
  /**
   * Adds every increment in one round trip and returns, for each, the values
   * of the fields it added to, as they are after the add. A field starts at 0;
   * a key expires `ttlMs` after its last add.
   */
  add(increments: CounterIncrement[]): Promise<CounterValues[]>;
  /** The fields of several keys in one round trip; `{}` for a key never added to (or expired). */
  read(keys: string[]): Promise<CounterValues[]>;
  /**
   * Every live key starting with `prefix`, with its fields. Only prefixes an
   * increment named in `listedUnder` may be listed (Redis keeps an index per
   * such prefix; SQL scans the key range).
   */
  list(prefix: string): Promise<Array<{ key: string; values: CounterValues }>>;
}

/** One key's additions. */
export interface CounterIncrement {
  key: string;
  /** Field -> amount to add (whole numbers or not). */
  add: CounterValues;
  /** The key (and its listings) expire this long after the last add (ms). */
  ttlMs: number;
  /** Prefixes of `key` it can be listed under (see Counters.list). */
  listedUnder?: string[];
}

export type CounterValues = Record<string, number>;

/** The counters' own table on SQLite and Postgres (Keyv's table holds JSON values, no numbers to add to). */
const TABLE = "chatbot_counters";
/** Beside Keyv's `chatbot:` keys in a shared Redis. */
const REDIS_PREFIX = "chatbot:n:";
const REDIS_INDEX = "chatbot:ni:";
/** Expired rows are deleted at most this often, on a write (SQL has no native expiry). */
const PURGE_EVERY_MS = 3_600_000;

/**
 * The counters of a Keyv store adapter: over its Redis client, or its SQL
 * connection (the same pool or database file as the conversations).
 */
export function countersFor(kind: "sqlite" | "redis" | "postgres", adapter: object): Counters {
  if (kind === "redis") {
    const redis = adapter as { getClient(): Promise<unknown> };
    return redisCounters(() => redis.getClient() as Promise<RedisCountersClient>);
  }
  if (kind === "sqlite") {
    // @keyv/sqlite: query(sql, ...params) over sqlite3's Database#all.
    const query = (adapter as { query: (sql: string, ...params: unknown[]) => Promise<unknown> }).query;
    return sqlCounters("sqlite", (sql, params) => query(sql, ...params) as Promise<never>);
  }
  // @keyv/postgres: query(sql, values) over its pg pool, resolving to the rows.
  const query = (adapter as { query: (sql: string, values: unknown[]) => Promise<unknown> }).query;
  return sqlCounters("postgres", (sql, params) => query(sql, params) as Promise<never>);
}

/** The slice of node-redis the counters use. */
interface RedisCountersClient {
  multi(): RedisMulti;
}

interface RedisMulti {
  hIncrByFloat(key: string, field: string, by: number): RedisMulti;
  hGetAll(key: string): RedisMulti;
  pExpire(key: string, ms: number): RedisMulti;
  sAdd(key: string, member: string): RedisMulti;
  sMembers(key: string): RedisMulti;
  exec(): Promise<unknown[]>;
}

/** Counters in Redis: one hash per key, one set per listed prefix; everything of one call in one MULTI. */
function redisCounters(client: () => Promise<RedisCountersClient>): Counters {
  const hashes = async (keys: string[]): Promise<CounterValues[]> => {
    if (keys.length === 0) return [];
    const multi = (await client()).multi();
    for (const key of keys) multi.hGetAll(REDIS_PREFIX + key);
    return (await multi.exec()).map((h) => numbers(h as Record<string, string> | null));
  };
  return {
    add: async (increments) => {
      if (increments.length === 0) return [];
      const multi = (await client()).multi();
      const slots: Array<{ index: number; field: string }> = [];
      let replies = 0;
      increments.forEach((inc, index) => {
        const key = REDIS_PREFIX + inc.key;
        for (const [field, by] of Object.entries(inc.add)) {
          // HINCRBY refuses a field that once got a fraction (cost); HINCRBYFLOAT adds to any
          // number and answers whole numbers without a point, exact up to 2^53.
          multi.hIncrByFloat(key, field, by);
          slots[replies++] = { index, field };
        }
        multi.pExpire(key, inc.ttlMs);
        replies++;
        for (const prefix of inc.listedUnder ?? []) {
          multi.sAdd(REDIS_INDEX + prefix, inc.key).pExpire(REDIS_INDEX + prefix, inc.ttlMs);
          replies += 2;
        }
      });
      const results = await multi.exec();
      const out: CounterValues[] = increments.map(() => ({}));
      results.forEach((value, i) => {
        const slot = slots[i];
        if (slot) (out[slot.index] as CounterValues)[slot.field] = Number(value);
      });
      return out;
    },
    read: hashes,
    list: async (prefix) => {
      const multi = (await client()).multi();
      const [members] = await multi.sMembers(REDIS_INDEX + prefix).exec();
      const keys = ((members as string[] | null) ?? []).sort();
      const values = await hashes(keys);
      // A member whose hash expired before its index did is gone.
      return keys.flatMap((key, i) =>
        Object.keys(values[i] ?? {}).length > 0 ? [{ key, values: values[i] as CounterValues }] : [],
      );
    },
  };
}

/**
 * Counters in a SQL table of their own (key, field, value, expires), on
 * SQLite (`?` parameters) or Postgres (`$n`). Rows of one add are written in
 * (key, field) order, so two statements on Postgres lock shared rows in the
 * same order and never deadlock.
 */
function sqlCounters(dialect: "sqlite" | "postgres", run: SqlQuery): Counters {
  const p = (n: number) => (dialect === "sqlite" ? "?" : `$${n}`);
  // Postgres compares text by the database's collation; "C" makes key ranges byte ranges.
  const keyType = dialect === "sqlite" ? "TEXT" : `TEXT COLLATE "C"`;
  const valueType = dialect === "sqlite" ? "REAL" : "DOUBLE PRECISION";
  // SQLite: rows kept in the primary key's own B-tree, one write per row instead of two.
  const clustered = dialect === "sqlite" ? " WITHOUT ROWID" : "";
  const table = ownTable(run, {
    name: TABLE,
    create: `CREATE TABLE IF NOT EXISTS ${TABLE} (key ${keyType} NOT NULL, field TEXT NOT NULL,
       value ${valueType} NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (key, field))${clustered}`,
    purge: `DELETE FROM ${TABLE} WHERE expires < ${p(1)}`,
    purgeValues: (now) => [now],
    purgeEveryMs: PURGE_EVERY_MS,
  });
  /**
   * SQLite: the rows as they are (WAL with synchronous=NORMAL already commits
   * without an fsync). Postgres: with an asynchronous commit, local to this
   * statement's transaction, so a count does not wait for the WAL to reach
   * disk (the commit's fsync was most of its cost). Atomicity and isolation
   * are unchanged; only a crash of the database server itself could lose the
   * last fraction of a second of counts.
   * @see https://www.postgresql.org/docs/current/wal-async-commit.html
   */
  const rowsToInsert = (values: string[]) =>
    dialect === "sqlite"
      ? `VALUES ${values.join(", ")}`
      : `SELECT v.key, v.field, v.value, v.expires FROM (VALUES ${values.join(", ")}) AS v(key, field, value, expires)
         CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
         ORDER BY v.key, v.field`;
  const rowsOf = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) => ({ key: String(r.key), field: String(r.field), value: Number(r.value) }));
  return {
    add: async (increments) => {
      await table.ready();
      const now = Date.now();
      const merged = new Map<string, { key: string; field: string; by: number; expires: number }>();
      for (const inc of increments) {
        for (const [field, by] of Object.entries(inc.add)) {
          const id = `${inc.key}\u0000${field}`;
          const row = merged.get(id);
          if (row) row.by += by;
          else merged.set(id, { key: inc.key, field, by, expires: now + inc.ttlMs });
        }
      }
      if (merged.size === 0) return increments.map(() => ({}));
      const rows = [...merged.values()].sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : a.field < b.field ? -1 : a.field > b.field ? 1 : 0,
      );
      const params: unknown[] = [];
      const cast = (n: number, type: string) => (dialect === "sqlite" ? p(n) : `${p(n)}::${type}`);
      const values = rows.map((r) => {
        params.push(r.key, r.field, r.by, r.expires);
        const n = params.length;
        return `(${cast(n - 3, "text")}, ${cast(n - 2, "text")}, ${cast(n - 1, "float8")}, ${cast(n, "bigint")})`;
      });
      params.push(now);
      const returned = await run(
        `INSERT INTO ${TABLE} (key, field, value, expires) ${rowsToInsert(values)}
         ON CONFLICT (key, field) DO UPDATE SET
           value = CASE WHEN ${TABLE}.expires < ${p(params.length)} THEN excluded.value
                        ELSE ${TABLE}.value + excluded.value END,
           expires = excluded.expires
         RETURNING key, field, value`,
        params,
      );
      const after = new Map(rowsOf(returned).map((r) => [`${r.key}\u0000${r.field}`, r.value]));
      table.purge(now);
      return increments.map((inc) =>
        Object.fromEntries(Object.keys(inc.add).map((f) => [f, after.get(`${inc.key}\u0000${f}`) ?? 0])),
      );
    },
    read: async (keys) => {
      if (keys.length === 0) return [];
      await table.ready();
      const marks = keys.map((_, i) => p(i + 1)).join(", ");
      const rows = await run(
        `SELECT key, field, value FROM ${TABLE} WHERE key IN (${marks}) AND expires >= ${p(keys.length + 1)}`,
        [...keys, Date.now()],
      );
      const byKey = new Map<string, CounterValues>();
      for (const r of rowsOf(rows)) {
        const values = byKey.get(r.key) ?? {};
        values[r.field] = r.value;
        byKey.set(r.key, values);
      }
      return keys.map((k) => byKey.get(k) ?? {});
    },
    list: async (prefix) => {
      await table.ready();
      // Keys are ASCII (src/usage/ escapes ids), so prefix + U+FFFF bounds the range.
      const rows = await run(
        `SELECT key, field, value FROM ${TABLE} WHERE key >= ${p(1)} AND key < ${p(2)} AND expires >= ${p(3)}
         ORDER BY key`,
        [prefix, `${prefix}\uffff`, Date.now()],
      );
      const out: Array<{ key: string; values: CounterValues }> = [];
      for (const r of rowsOf(rows)) {
        const last = out.at(-1);
        if (last?.key === r.key) last.values[r.field] = r.value;
        else out.push({ key: r.key, values: { [r.field]: r.value } });
      }
      return out;
    },
  };
}

function numbers(hash: Record<string, string> | null): CounterValues {
  const out: CounterValues = {};
  for (const [field, value] of Object.entries(hash ?? {})) out[field] = Number(value);
  return out;
}
