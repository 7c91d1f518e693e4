import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { joinShardPeers, runShardManager, type ShardPeers, startDiscord } from "../adapters/discord/index.js";
import {
  DELETES_PER_MINUTE,
  POST_WINDOW_MS,
  POSTS_PER_WINDOW,
  STREAM_APPENDS_PER_MINUTE,
  STREAM_STARTS_PER_MINUTE,
  STREAM_STOPS_PER_MINUTE,
  startSlack,
} from "../adapters/slack/index.js";
import {
  createWebServer,
  type HttpServer,
  type ReadyCheck,
  registerFeedbackRoute,
  registerOpsRoutes,
  webSurface,
} from "../adapters/web/index.js";
import { parseArgs } from "./args.js";
import { loadConfigOrExit, secretsOf } from "./config/index.js";
import { buildCore, type Core } from "./core.js";
import { ShutdownError, StartError } from "./errors.js";
import { createLogger } from "./log.js";
import { type ShardMetrics, shardMetricsText } from "./metrics.js";
import { NO_MODEL_HELP } from "./texts.js";
import type { Surface } from "./turn/index.js";

/**
 * The one composition root: reads config, builds the core, starts every
 * surface whose credentials are present, and stops them on SIGTERM/SIGINT.
 *
 * Arguments choose the mode: none runs the bot; `--shards` runs the Discord
 * shard manager, which starts this same file once per shard;
 * `--surfaces=discord,slack,web` starts only those surfaces (the manager
 * gives shards other than 0 `--surfaces=discord`); `--shard=N` says which
 * shard this process is (given by the manager).
 */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  // An SDK's stray promise (e.g. Slack's Socket Mode client stopped while reconnecting rejects
  // with nothing) must not take down every conversation on every platform: log it loudly.
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));
  try {
    if (args.shards) return await runShardManager(config, log.child({ role: "shard-manager" }), thisFile());
    const core = await buildCore(config, log);
    await core.replicas.recovery.start();
    const { surfaces, http } = await startSurfaces(core, args.surfaces);
    core.replicas.recovery.watch(finishersOf(surfaces));
    const checks = readyChecks(core, surfaces);
    // A shard of a sharded bot answers the others' questions (shard 0 serves /metrics and /ready for all).
    const peers =
      args.shard === undefined
        ? undefined
        : joinShardPeers(async (what) =>
            what === "metrics" ? ((await core.metrics?.json()) ?? []) : allPass(checks),
          );
    if (http) await listen(http, core, checks, peers);
    stopOnSignal(core, surfaces, http);
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    log.error({ code: err.code, err: err.cause }, err.message);
    log.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(), 100).unref();
  }
}

/** One platform the bot can run on: whether it is wanted and configured here, and how to start it. */
interface SurfaceStarter {
  name: "web" | "slack" | "discord";
  /** As logs name it: "Slack". */
  label: string;
  /** What the "on" line adds: how it is reached. */
  how(): string;
  /** Undefined: start it; a sentence: why it stays off. */
  off(): string | undefined;
  start(): Promise<Surface>;
}

/** Starts web, Slack and Discord (those allowed by `only` whose credentials are set); says what it skipped. */
async function startSurfaces(
  core: Core,
  only: Set<string> | undefined,
): Promise<{ surfaces: Surface[]; http: HttpServer | undefined }> {
  const { config, log, bot, turns, settings, access, usage } = core;
  const recovery = core.replicas.recovery;
  const cursor = config.cursor;
  let http: HttpServer | undefined;
  const starters: SurfaceStarter[] = [
    {
      name: "web",
      label: "Web",
      how: () => `port ${config.web.port}`,
      off: () => (config.web.enabled ? undefined : "WEB_ENABLED=false"),
      start: async () => {
        const modelStatus = () =>
          core.models.default ? { configured: true } : { configured: false, message: NO_MODEL_HELP };
        http = await createWebServer({
          bot,
          turns,
          config: { ...config.web, cursor },
          log,
          modelStatus,
          maxUploadBytes: config.attachments.webMaxUploadBytes,
          usage,
        });
        return webSurface(turns);
      },
    },
    {
      name: "slack",
      label: "Slack",
      how: () => (config.slack.appToken ? "Socket Mode" : "HTTP events at /slack/events"),
      off: () =>
        !config.slack.botToken
          ? "SLACK_BOT_TOKEN is not set"
          : !config.slack.appToken && !http
            ? "HTTP events need the web server (WEB_ENABLED=true) or SLACK_APP_TOKEN for Socket Mode"
            : undefined,
      start: () =>
        startSlack({
          ...{ bot, turns, config: config.slack, cursor, log, http, recovery, settings, access, usage },
          budgets: core.budgets("slack", config.slack.editsPerMinute, 60_000),
          postBudgets: core.budgets("slack", POSTS_PER_WINDOW, POST_WINDOW_MS, "slack-post"),
          // Each native streaming method on its own window; appends pace themselves per stream.
          streamBudgets: {
            start: core.budgets("slack", STREAM_STARTS_PER_MINUTE, 60_000, "slack-stream-start"),
            append: core.budgets("slack", STREAM_APPENDS_PER_MINUTE, 60_000, "slack-stream-append", {
              paceMs: 0,
              reserved: 0,
            }),
            stop: core.budgets("slack", STREAM_STOPS_PER_MINUTE, 60_000, "slack-stream-stop"),
            delete: core.budgets("slack", DELETES_PER_MINUTE, 60_000, "slack-delete"),
          },
          feedback: core.feedback,
        }),
    },
    {
      name: "discord",
      label: "Discord",
      how: () => "gateway connected",
      off: () => (config.discord.token ? undefined : "DISCORD_TOKEN is not set"),
      start: () =>
        startDiscord({
          ...{ bot, turns, config: config.discord, cursor, log, recovery, settings, access, usage },
          budgets: core.budgets("discord", config.discord.editsPer5s, 5_000),
        }),
    },
  ];
  const surfaces: Surface[] = [];
  for (const starter of starters) {
    const off = only && !only.has(starter.name) ? `not in --surfaces=${[...only].join(",")}` : starter.off();
    if (off) {
      log.info(`${starter.label}: off, ${off}`);
      continue;
    }
    surfaces.push(await starter.start());
    log.info(`${starter.label}: on (${starter.how()})`);
  }
  return { surfaces, http };
}

function finishersOf(surfaces: Surface[]) {
  return Object.fromEntries(surfaces.flatMap((s) => (s.finisher ? [[s.name, s.finisher] as const] : [])));
}

/** What /ready checks: accepting turns, the store, each surface but the web. */
function readyChecks(core: Core, surfaces: Surface[]): Record<string, ReadyCheck> {
  const { bot, store } = core;
  const checks: Record<string, ReadyCheck> = {
    // Not ready once shutting down, so a load balancer stops sending new requests at once.
    accepting: async () => !bot.isDraining,
    // A write, not a read: with SQLite in WAL mode reads still work while another writer holds the lock.
    store: () => store.probe().then(() => true),
  };
  for (const s of surfaces) if (s.name !== "web") checks[s.name] = () => s.ready();
  return checks;
}

async function allPass(checks: Record<string, ReadyCheck>): Promise<boolean> {
  const results = await Promise.all(Object.values(checks).map((check) => check().catch(() => false)));
  return results.every(Boolean);
}

/**
 * Adds /ready and /metrics, then listens. In a sharded bot (`peers`) they
 * cover every shard: /ready checks `shards` too, and /metrics is every
 * shard's, each sample labelled with its `shard`.
 */
async function listen(
  http: HttpServer,
  core: Core,
  own: Record<string, ReadyCheck>,
  peers: ShardPeers | undefined,
): Promise<void> {
  const { config, log, metrics } = core;
  const checks = { ...own };
  if (peers) {
    checks.shards = async () => {
      const { answers } = await peers.ask("ready");
      const down = answers.filter((a) => a.value !== true);
      if (down.length === 0) return true;
      const why = down.map((a) => `shard ${a.shard}: ${a.error ?? "not ready"}`).join(", ");
      throw Object.assign(new Error(why), { code: why });
    };
  }
  const metricsText =
    metrics && peers
      ? async () => {
          const [mine, { self, answers }] = await Promise.all([metrics.json(), peers.ask("metrics")]);
          const others = answers.flatMap((a) =>
            Array.isArray(a.value) ? [{ shard: a.shard, metrics: a.value as ShardMetrics }] : [],
          );
          return shardMetricsText([{ shard: self, metrics: mine }, ...others]);
        }
      : metrics
        ? () => metrics.text()
        : undefined;
  registerOpsRoutes(http, {
    checks,
    metricsText,
    // Shown, not checked: the bot answers without a tool server that is down.
    details: core.tools.configured ? () => ({ tools: toolStates(core) }) : undefined,
  });
  registerFeedbackRoute(http, { apiKey: config.web.apiKey, votes: () => core.feedback.votes() });
  if (metrics) log.info("Metrics: on, at /metrics");
  await http.listen({ port: config.web.port, host: config.web.host });
  const address = http.server.address();
  const port = typeof address === "object" && address ? address.port : config.web.port;
  const shown = config.web.host === "0.0.0.0" ? "localhost" : config.web.host;
  log.info(`Web: chat page and API at http://${shown}:${port}/`);
}

/** Each MCP server as /ready shows it: "ready (3 tools)", "starting", or "failed: <why>". */
function toolStates(core: Core): Record<string, string> {
  return Object.fromEntries(
    Object.entries(core.tools.statuses()).map(([name, s]) => [
      name,
      s.state === "ready"
        ? `ready (${s.tools} tools)`
        : s.state === "failed"
          ? `failed: ${s.reason}`
          : s.state,
    ]),
  );
}

/**
 * On SIGTERM/SIGINT: refuse new turns, let every surface stop taking events
 * and finish its turns for SHUTDOWN_TIMEOUT_MS (the rest end with the restart
 * note), then close the store and exit 0. A hard deadline 15 s later exits
 * anyway (final edits may still wait for an exhausted edit budget).
 */
function stopOnSignal(core: Core, surfaces: Surface[], http: HttpServer | undefined): void {
  const { config, log, bot, store } = core;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, activeTurns: bot.activeTurns }, "shutting down: finishing turns in flight");
    const graceMs = config.shutdownTimeoutMs;
    const hardStopMs = graceMs + 15_000;
    setTimeout(() => {
      log.error({ activeTurns: bot.activeTurns }, `shutdown took over ${hardStopMs} ms: exiting now`);
      log.flush();
      process.exit(1);
    }, hardStopMs).unref();
    // New turns are refused at once (Slack HTTP answers 503 so Slack redelivers elsewhere).
    bot.refuseNewTurns();
    await Promise.all(
      surfaces.map((s) =>
        s.stop(graceMs).catch((err) => log.error({ err, surface: s.name }, "could not stop cleanly")),
      ),
    );
    // Anything no surface tracked (none expected) ends the same way.
    bot.abortAll(new ShutdownError());
    await bot.drain(5_000);
    await core.replicas.recovery
      .stop()
      .catch((err) => log.warn({ err }, "could not unregister this process"));
    await http?.close().catch((err) => log.error({ err }, "could not close the web server"));
    await core.tools.close();
    await store.close().catch((err) => log.error({ err }, "could not close the store"));
    log.info("stopped");
    log.flush();
    setTimeout(() => process.exit(0), 100).unref();
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

/** This file, for the shard manager to run once per shard (built: dist/src/main.js; tsx: src/main.ts). */
function thisFile(): { file: string; execArgv: string[] } {
  const file = fileURLToPath(import.meta.url);
  return { file, execArgv: extname(file) === ".ts" ? ["--import", import.meta.resolve("tsx")] : [] };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
