import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DiscordShards, DiscordStartError, recommendedShardCount } from "../adapters/discord/index.js";
import { type Config, loadConfigOrExit, secretsOf } from "./config.js";
import { createLogger, type Logger } from "./log.js";

/**
 * The sharded entry point (`npm run start:shards`): a discord.js
 * ShardingManager that runs the ordinary composition root (main) once per
 * Discord shard. Shard 0 also runs the web server and Slack; the others run
 * Discord only (see adapters/discord/sharding.ts). This process only starts,
 * watches and stops the shards.
 */

/** Margin on top of a shard's own SHUTDOWN_TIMEOUT_MS (and its 5 s to end aborted turns) before it is killed. */
const STOP_MARGIN_MS = 10_000;

const SQLITE_REFUSED =
  "Discord sharding runs one process per shard, and they must share one memory: set STORE_URL to " +
  "redis://host:6379 or postgres://user@host/db. SQLite serves one process only (DISCORD_SHARDS=1 works with it).";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) }).child({
    role: "shard-manager",
  });
  // An SDK's stray promise (e.g. Slack's Socket Mode client stopped while reconnecting rejects
  // with nothing) must not take down every conversation on every platform: log it loudly.
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));
  const token = config.discord.token;
  if (!token)
    return fail(log, "DISCORD_TOKEN is not set: sharding is for Discord. Without Discord, run npm start.");

  let count: number;
  try {
    count = await shardCount(config, token, log);
  } catch (err) {
    return fail(log, err instanceof Error ? err.message : String(err), err);
  }
  if (count > 1 && new URL(config.store.url).protocol === "sqlite:") return fail(log, SQLITE_REFUSED);

  const shards = new DiscordShards({
    ...compositionRoot(),
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
    if (stopping) return;
    if (err instanceof DiscordStartError) return fail(log, err.message, err.cause);
    throw err;
  }
}

async function shardCount(config: Config, token: string, log: Logger): Promise<number> {
  const wanted = config.discordShards.count;
  if (wanted !== "auto") {
    log.info(`Discord: ${wanted} shard${wanted === 1 ? "" : "s"} (DISCORD_SHARDS)`);
    return wanted;
  }
  const recommended = await recommendedShardCount(token, config.discord.apiUrl);
  log.info(`Discord: ${recommended} shard${recommended === 1 ? "" : "s"} (Discord's recommendation)`);
  return recommended;
}

/**
 * The file each shard runs: main next to this file, so the built bot runs
 * dist/src/main.js and `tsx src/shards.ts` runs src/main.ts through tsx.
 */
function compositionRoot(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const file = join(dirname(here), `main${ext}`);
  return { file, execArgv: ext === ".ts" ? ["--import", import.meta.resolve("tsx")] : [] };
}

function fail(log: Logger, message: string, err?: unknown): void {
  log.error(err === undefined ? {} : { err }, message);
  process.exitCode = 1;
  log.flush();
  setTimeout(() => process.exit(), 100).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
