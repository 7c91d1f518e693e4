import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startDiscord } from "../../adapters/discord/index.js";
import { loadConfig } from "../../src/config/index.js";
import { buildCore } from "../../src/core.js";
import { createLogger } from "../../src/log.js";
import type { Ready } from "./remote.js";

/**
 * This project's bot as it runs in production, composed as src/main.ts does
 * (config from the environment, buildCore, startDiscord with the core's
 * budgets and crash recovery), on SQLite in a temp folder, logging at info
 * level into /dev/null: every log line is still formatted.
 */
export async function startProjectBot(fakes: Ready, model: string): Promise<{ stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "chatbot-freshness-"));
  const config = loadConfig({
    env: {
      OPENAI_API_KEY: "sk-bench-not-real",
      OPENAI_BASE_URL: fakes.openaiUrl,
      LLM_MODEL: model,
      LLM_MAX_RETRIES: "0",
      STORE_URL: `sqlite://${join(dir, "bench.sqlite")}`,
      WEB_ENABLED: "false",
      DISCORD_TOKEN: fakes.token,
      DISCORD_API_URL: fakes.apiUrl,
      LOG_LEVEL: "info",
    },
  });
  const log = createLogger({ level: "info", pretty: false, destination: pino.destination("/dev/null") });
  const core = await buildCore(config, log);
  await core.replicas.recovery.start();
  const { bot, turns, settings, access, usage } = core;
  const surface = await startDiscord({
    ...{ bot, turns, config: config.discord, cursor: config.cursor, log, settings, access, usage },
    recovery: core.replicas.recovery,
    budgets: core.budgets("discord", config.discord.editsPer5s, 5_000),
  });
  return {
    stop: async () => {
      await surface.stop(60_000);
      await core.replicas.recovery.stop();
      await core.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
