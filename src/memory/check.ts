import { StartError, StoreError } from "../errors.js";
import type { KeyvConversationStore } from "./store.js";

/**
 * Writes and reads one key before the bot starts, so a store that cannot
 * work stops start-up with a line naming the file (or server) and what to
 * do, instead of the driver's raw error at the first message.
 */
export async function checkStoreAtStart(store: KeyvConversationStore, url: string): Promise<void> {
  try {
    await store.probe();
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    throw explain(err, url);
  }
}

/** The StartError for a store that failed its first write: what broke, where, and what to do. */
function explain(err: StoreError, url: string): StartError {
  const code = err.backendCode;
  const options = { cause: err.cause };
  if (!url.startsWith("sqlite:")) {
    return new StartError(
      "store_unreachable",
      `The memory store at ${redactUrl(url)} does not work (${code}). Check that it runs and that STORE_URL is right.`,
      options,
    );
  }
  const file = url.replace(/^sqlite:\/\//, "");
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new StartError(
      "store_corrupt",
      `The memory file ${file} is damaged or not a SQLite database (${code}). Move it aside ` +
        `(mv ${file} ${file}.broken) to start with empty memory, or restore it from a backup, then start again.`,
      options,
    );
  }
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new StartError(
      "store_locked",
      `The memory file ${file} is locked by another process (${code}). Check whether another bot or a ` +
        `sqlite3 shell holds it (fuser ${file}) and stop it, or point STORE_URL at another file.`,
      options,
    );
  }
  return new StartError(
    "store_unwritable",
    `The memory file ${file} cannot be opened or written (${code}). Check that its folder exists and ` +
      "that the bot's user may write to it, or point STORE_URL at another file.",
    options,
  );
}

/** A store URL fit for logs: its password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
