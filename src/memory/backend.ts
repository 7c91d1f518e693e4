import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import KeyvPostgres from "@keyv/postgres";
import KeyvRedis from "@keyv/redis";
import KeyvSqlite from "@keyv/sqlite";
import Keyv, { type KeyvStoreAdapter } from "keyv";
import { type Counters, countersFor } from "./counters.js";
import { postgresWaitingLists, redisWaitingLists, type WaitingLists } from "./waiting.js";
import { postgresWindows, redisWindows } from "./windows.js";

/**
 * The Keyv instance for a STORE_URL, plus what Keyv cannot do: what several
 * replicas sharing the backend coordinate through (see Coordination), and
 * housekeeping. Atomic keys live beside Keyv's, under `chatbot:x:`, with an
 * expiry of their own.
 */
export interface Backend {
  kind: "sqlite" | "redis" | "postgres";
  keyv: Keyv;
  coordination: Coordination;
  /** Deletes rows whose TTL has passed (backends without native expiry); returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

/**
 * What the store offers the replica machinery (src/replicas/): one capability
 * object, so nothing has to ask which backend it is.
 */
export interface Coordination {
  /** Other processes may share this store (Redis, Postgres): turns need a lock across processes. */
  readonly shared: boolean;
  readonly atomic: AtomicOps;
  /** Sliding windows counted for every process at once (Redis, Postgres); absent on SQLite, which one process uses. */
  readonly windows?: SharedWindows;
  /** Who waits for a conversation's turn, in arrival order (Redis, Postgres: where `shared`). */
  readonly waiting?: WaitingLists;
  /** Numeric counters with atomic adds (usage), in every backend (src/memory/counters.ts). */
  readonly counters: Counters;
}

/** Sliding windows of grants kept in the backend, shared by every process (edit budgets across replicas). */
export interface SharedWindows {
  /** Takes one grant from window `key` (at most `limit` per `perMs`): 0 when granted, else ms to wait. */
  take(key: string, limit: number, perMs: number): Promise<number>;
  /** Grants nothing from window `key` for `ms` (a platform answered 429). */
  pause(key: string, ms: number): Promise<void>;
}

/** The table that holds every key on SQLite and Postgres. */
const TABLE = "chatbot";
/** Keys are prefixed `chatbot:` so a shared Redis can hold other apps' keys too. */
const NAMESPACE = "chatbot";

type SqlQuery = (sql: string, ...params: unknown[]) => Promise<unknown>;

/** Atomic single-key operations; values are short strings (a token), keys expire after ttlMs. */
export interface AtomicOps {
  /** Sets `key` when it is absent or expired; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Renews `key`'s expiry when it still holds `value`; true when it did. */
  extendIf(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` when it still holds `value`; true when it did. */
  deleteIf(key: string, value: string): Promise<boolean>;
}

const ATOMIC_PREFIX = `chatbot:x:`;

/** Opens the backend a STORE_URL names: sqlite://path (file created on first use), redis://, postgres://. */
export function openBackend(url: string): Backend {
  const protocol = new URL(url).protocol;
  if (protocol === "sqlite:") {
    const path = url.replace(/^sqlite:\/\//, "");
    if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
    const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: 5_000 });
    const q = (sql: string, ...params: unknown[]) =>
      (adapter.query as SqlQuery)(sql, ...params) as Promise<unknown[]>;
    if (path !== ":memory:") {
      // WAL: readers never wait for the writer, and with synchronous=NORMAL a write is not an
      // fsync each (still durable across an application crash; only an OS crash may lose the last writes).
      void q("PRAGMA journal_mode=WAL")
        .then(() => q("PRAGMA synchronous=NORMAL"))
        .catch(() => undefined);
    }
    const atomic: AtomicOps = {
      setIfAbsent: async (key, value, ttlMs) => {
        const now = Date.now();
        const rows = await q(
          `INSERT INTO ${TABLE}(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value
           WHERE json_extract(${TABLE}.value, '$.expires') < ? RETURNING key`,
          ATOMIC_PREFIX + key,
          JSON.stringify({ value, expires: now + ttlMs }),
          now,
        );
        return rows.length > 0;
      },
      extendIf: async (key, value, ttlMs) => {
        const rows = await q(
          `UPDATE ${TABLE} SET value = ? WHERE key = ? AND json_extract(value, '$.value') = ? RETURNING key`,
          JSON.stringify({ value, expires: Date.now() + ttlMs }),
          ATOMIC_PREFIX + key,
          value,
        );
        return rows.length > 0;
      },
      deleteIf: async (key, value) => {
        const rows = await q(
          `DELETE FROM ${TABLE} WHERE key = ? AND json_extract(value, '$.value') = ? RETURNING key`,
          ATOMIC_PREFIX + key,
          value,
        );
        return rows.length > 0;
      },
    };
    return withKeyv("sqlite", adapter, { shared: false, atomic }, async () => {
      const query = adapter.query as SqlQuery;
      // Keyv stores {"value":…,"expires":ms} as JSON text; expired rows are otherwise only removed when read.
      const rows = (await query(
        `DELETE FROM ${TABLE} WHERE json_extract(value, '$.expires') < ? RETURNING key`,
        Date.now(),
      )) as unknown[];
      return rows.length;
    });
  }
  if (protocol === "redis:" || protocol === "rediss:") {
    const adapter = new KeyvRedis(url, { throwOnConnectError: true, connectionTimeout: 5_000 });
    const client = () => adapter.getClient() as Promise<RedisLike>;
    const atomic: AtomicOps = {
      setIfAbsent: async (key, value, ttlMs) =>
        (await (await client()).set(ATOMIC_PREFIX + key, value, { NX: true, PX: ttlMs })) === "OK",
      extendIf: async (key, value, ttlMs) =>
        Number(
          await (await client()).eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
            { keys: [ATOMIC_PREFIX + key], arguments: [value, String(ttlMs)] },
          ),
        ) === 1,
      deleteIf: async (key, value) =>
        Number(
          await (await client()).eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            { keys: [ATOMIC_PREFIX + key], arguments: [value] },
          ),
        ) === 1,
    };
    const evaluate = async (script: string, keys: string[], args: string[]) =>
      (await client()).eval(script, { keys, arguments: args });
    return withKeyv(
      "redis",
      adapter,
      { shared: true, atomic, windows: redisWindows(evaluate), waiting: redisWaitingLists(evaluate) },
      async () => 0,
    );
  }
  if (protocol === "postgres:" || protocol === "postgresql:") {
    const adapter = new KeyvPostgres({ uri: url, table: TABLE });
    const query = (sql: string, values: unknown[]) =>
      (adapter.query as unknown as (sql: string, values?: unknown[]) => Promise<unknown[]>)(sql, values);
    const atomic: AtomicOps = {
      setIfAbsent: async (key, value, ttlMs) => {
        const now = Date.now();
        const rows = await query(
          `INSERT INTO ${TABLE}(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
           WHERE (${TABLE}.value::jsonb->>'expires')::bigint < $3 RETURNING key`,
          [ATOMIC_PREFIX + key, JSON.stringify({ value, expires: now + ttlMs }), now],
        );
        return rows.length > 0;
      },
      extendIf: async (key, value, ttlMs) => {
        const rows = await query(
          `UPDATE ${TABLE} SET value = $1 WHERE key = $2 AND value::jsonb->>'value' = $3 RETURNING key`,
          [JSON.stringify({ value, expires: Date.now() + ttlMs }), ATOMIC_PREFIX + key, value],
        );
        return rows.length > 0;
      },
      deleteIf: async (key, value) => {
        const rows = await query(
          `DELETE FROM ${TABLE} WHERE key = $1 AND value::jsonb->>'value' = $2 RETURNING key`,
          [ATOMIC_PREFIX + key, value],
        );
        return rows.length > 0;
      },
    };
    const rows = query as (sql: string, values: unknown[]) => Promise<never>;
    const coordination = {
      shared: true,
      atomic,
      windows: postgresWindows(rows),
      waiting: postgresWaitingLists(rows),
    };
    return withKeyv("postgres", adapter, coordination, async () => {
      const rows = await query(
        `DELETE FROM ${TABLE} WHERE (value::jsonb->>'expires')::bigint < $1 RETURNING key`,
        [Date.now()],
      );
      return rows.length;
    });
  }
  throw new Error(`STORE_URL ${protocol} is not supported: use sqlite://, redis:// or postgres://`);
}

/** The slice of the node-redis client the atomic operations use. */
interface RedisLike {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

function withKeyv(
  kind: Backend["kind"],
  adapter: KeyvStoreAdapter & { disconnect?: () => Promise<void> },
  coordination: Omit<Coordination, "counters">,
  purgeExpired: () => Promise<number>,
): Backend {
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  return {
    kind,
    keyv,
    coordination: { ...coordination, counters: countersFor(kind, adapter) },
    purgeExpired,
    close: async () => {
      try {
        await keyv.disconnect();
      } catch (err) {
        // @keyv/postgres shares one pool per URI between instances; a second close finds it ended.
        if (!/end on pool more than once/.test(String(err))) throw err;
      }
    },
  };
}
