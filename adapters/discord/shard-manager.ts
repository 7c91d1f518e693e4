import { DiscordAPIError, REST, type RESTGetAPIGatewayBotResult, Routes } from "discord.js";
import type { Config } from "../../src/config/index.js";
import { StartError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import { DISCORD_TOKEN_REJECTED } from "../../src/texts.js";
import { DiscordShards } from "./sharding.js";

/** Asks Discord (GET /gateway/bot) how many shards it recommends for this bot. */
export async function recommendedShardCount(token: string, apiUrl: string | undefined): Promise<number> {
  const rest = new REST(apiUrl ? { api: apiUrl } : {}).setToken(token);
  try {
    const info = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
    return Math.max(1, info.shards);
  } catch (err) {
    if (err instanceof DiscordAPIError && err.status === 401) {
      throw new StartError("discord_bad_token", DISCORD_TOKEN_REJECTED, { cause: err });
    }
    throw err;
  }
}

/** Margin on top of a shard's own SHUTDOWN_TIMEOUT_MS (and its 5 s to end aborted turns) before it is killed. */
const STOP_MARGIN_MS = 10_000;

/**
 * The sharded mode of the composition root (`npm run start:shards`): asks
 * how many shards (DISCORD_SHARDS, or Discord's recommendation), refuses
 * SQLite for more than one, starts the shard processes running `root`, and
 * stops them all on SIGTERM/SIGINT. This process runs no bot itself.
 */
export async function runShardManager(
  config: Config,
  log: Logger,
  root: { file: string; execArgv: string[] },
): Promise<void> {
  const token = config.discord.token;
  if (!token) {
    throw new StartError(
      "discord_no_token",
      "DISCORD_TOKEN is not set: sharding is for Discord. Without Discord, run npm start.",
    );
  }
  const wanted = config.discordShards.count;
  const count = wanted === "auto" ? await recommendedShardCount(token, config.discord.apiUrl) : wanted;
  log.info(
    `Discord: ${count} shard${count === 1 ? "" : "s"} (${wanted === "auto" ? "Discord's recommendation" : "DISCORD_SHARDS"})`,
  );
  if (count > 1 && new URL(config.store.url).protocol === "sqlite:") {
    throw new StartError(
      "shards_need_shared_store",
      "Discord sharding runs one process per shard, and they must share one memory: set STORE_URL to " +
        "redis://host:6379 or postgres://user@host/db. SQLite serves one process only (DISCORD_SHARDS=1 works with it).",
    );
  }
  const shards = new DiscordShards({
    ...root,
    token,
    count,
    spawnDelayMs: config.discordShards.spawnDelayMs,
    stopTimeoutMs: config.shutdownTimeoutMs + STOP_MARGIN_MS,
    log,
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: stopping every shard");
    const clean = await shards.stop();
    log.info(clean ? "stopped" : "stopped, but a shard did not exit cleanly");
    process.exitCode = clean ? 0 : 1;
    log.flush();
    setTimeout(() => process.exit(), 100).unref();
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  try {
    await shards.start();
  } catch (err) {
    // A shutdown during start-up makes the starting shard "fail"; that is not an error.
    if (!stopping) throw err;
  }
}
