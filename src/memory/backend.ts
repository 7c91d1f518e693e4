import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import KeyvPostgres from "@keyv/postgres";
import KeyvRedis from "@keyv/redis";
import KeyvSqlite from "@keyv/sqlite";
import Keyv, { type KeyvStoreAdapter } from "keyv";

/** The Keyv instance for a STORE_URL, plus the backend's own housekeeping. */
export interface Backend {
  kind: "sqlite" | "redis" | "postgres";
  keyv: Keyv;
  /** Deletes rows whose TTL has passed (backends without native expiry); returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

/** The table that holds every key on SQLite and Postgres. */
const TABLE = "chatbot";
/** Keys are prefixed `chatbot:` so a shared Redis can hold other apps' keys too. */
const NAMESPACE = "chatbot";

type SqlQuery = (sql: string, ...params: unknown[]) => Promise<unknown>;

/** Opens the backend a STORE_URL names: sqlite://path (file created on first use), redis://, postgres://. */
export function openBackend(url: string): Backend {
  const protocol = new URL(url).protocol;
  if (protocol === "sqlite:") {
    const path = url.replace(/^sqlite:\/\//, "");
    if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
    const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: TABLE, busyTimeout: 5_000 });
    return withKeyv("sqlite", adapter, async () => {
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
    return withKeyv("redis", adapter, async () => 0);
  }
  if (protocol === "postgres:" || protocol === "postgresql:") {
    const adapter = new KeyvPostgres({ uri: url, table: TABLE });
    return withKeyv("postgres", adapter, async () => {
      const query = adapter.query as unknown as (sql: string, values?: unknown[]) => Promise<unknown[]>;
      const rows = await query(
        `DELETE FROM ${TABLE} WHERE (value::jsonb->>'expires')::bigint < $1 RETURNING key`,
        [Date.now()],
      );
      return rows.length;
    });
  }
  throw new Error(`STORE_URL ${protocol} is not supported: use sqlite://, redis:// or postgres://`);
}

function withKeyv(
  kind: Backend["kind"],
  adapter: KeyvStoreAdapter & { disconnect?: () => Promise<void> },
  purgeExpired: () => Promise<number>,
): Backend {
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  return {
    kind,
    keyv,
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
