/** Runs one statement with parameters and returns its rows (SQLite `?`, Postgres `$n`). */
export type SqlQuery = (sql: string, values: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * A table the store keeps for itself (counters, edit windows, waiting lists):
 * `ready()` creates it on first use, once per process. Two replicas creating
 * it at once: one wins, the other sees it exists. A failure is retried on the
 * next call. `purge(now)` deletes its expired rows, at most once per
 * `purgeEveryMs`, in the background (SQL has no native expiry).
 */
export function ownTable(
  query: SqlQuery,
  o: {
    name: string;
    create: string;
    purge: string;
    purgeValues?: (now: number) => unknown[];
    purgeEveryMs: number;
  },
): { ready: () => Promise<void>; purge: (now: number) => void } {
  let ready: Promise<void> | undefined;
  let purgedAt = 0;
  return {
    ready: () => {
      ready ??= query(o.create, [])
        .then(() => undefined)
        .catch(async (err) => {
          const exists = await query(`SELECT 1 FROM ${o.name} LIMIT 1`, []).then(
            () => true,
            () => false,
          );
          if (!exists) {
            ready = undefined;
            throw err;
          }
        });
      return ready;
    },
    purge: (now) => {
      if (now - purgedAt <= o.purgeEveryMs) return;
      purgedAt = now;
      void query(o.purge, o.purgeValues?.(now) ?? []).catch(() => undefined);
    },
  };
}
