import KeyvSqlite from "@keyv/sqlite";

/**
 * The keys of stored images in a SQLite store file, read with a connection
 * of its own (what is on disk, not what the store's API chooses to show).
 */
export async function storedImageKeys(sqlitePath: string): Promise<string[]> {
  const adapter = new KeyvSqlite({ uri: `sqlite://${sqlitePath}`, table: "chatbot" });
  try {
    const query = adapter.query as (sql: string, ...params: unknown[]) => Promise<Array<{ key: string }>>;
    const rows = await query("SELECT key FROM chatbot WHERE key LIKE ?", "chatbot:file:%");
    return rows.map((r) => r.key);
  } finally {
    await adapter.disconnect();
  }
}
