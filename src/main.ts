import type { FastifyInstance } from "fastify";
import { startDiscord } from "../adapters/discord/index.js";
import { startSlack } from "../adapters/slack/index.js";
import { createWebServer, type ReadyCheck, registerOpsRoutes } from "../adapters/web/index.js";
import { Bot } from "./bot.js";
import { type Config, loadConfigOrExit, secretsOf } from "./config.js";
import { ShutdownError } from "./errors.js";
import { createModel } from "./llm/index.js";
import { detectOllama, OLLAMA_URL } from "./llm/ollama.js";
import { createLogger, type Logger } from "./log.js";
import { type Finisher, InflightMessages } from "./memory/inflight.js";
import { LeaseLock } from "./memory/lock.js";
import { type EditBudgetSource, SharedEditBudgets } from "./memory/shared-budget.js";
import { createStore } from "./memory/store.js";
import { Metrics } from "./metrics.js";
import { EditBudgets } from "./stream/index.js";

/** Something started that must be stopped on shutdown. */
interface Surface {
  name: string;
  /** Stops taking events, lets its answers in flight finish for up to `graceMs`, then ends them. */
  stop(graceMs: number): Promise<void>;
  /** Whether it is connected now (for /ready). */
  ready?: ReadyCheck;
}

const NO_MODEL_HELP =
  "No model is configured. Set OPENAI_API_KEY (OpenAI), ANTHROPIC_API_KEY (Anthropic), or " +
  "OPENAI_BASE_URL=http://localhost:11434/v1 with LLM_MODEL for a local Ollama, in .env, and restart.";

/** Composition root: reads config, builds the core, starts every surface whose credentials are present. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  // An SDK's stray promise (e.g. Slack's Socket Mode client stopped while reconnecting rejects
  // with nothing) must not take down every conversation on every platform: log it loudly.
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));

  await useLocalOllamaIfNothingElse(config, log);
  const model = createModel(config.llm);
  if (model)
    log.info(
      `Model: ${model.provider} ${model.model}${config.llm.openaiBaseUrl && model.provider === "openai" ? ` at ${config.llm.openaiBaseUrl}` : ""}`,
    );
  else log.warn(NO_MODEL_HELP);

  const store = createStore(config.store.url, {
    maxMessages: config.store.maxMessages,
    ttlMs: config.store.ttlMs,
    log,
  });
  log.info(`Memory: ${store.kind} (${redactUrl(config.store.url)})`);
  const bot: Bot = new Bot({
    model,
    store,
    log,
    systemPrompt: config.llm.systemPrompt,
    contextTokens: config.llm.contextTokens,
    notConfiguredMessage: NO_MODEL_HELP,
    onTurn: (stats) => metrics?.recordTurn(stats),
    // SQLite means one process: the in-process queue is the whole lock. Shared stores mean replicas.
    lock:
      store.kind === "sqlite"
        ? undefined
        : new LeaseLock(store.atomic, { leaseMs: config.store.lockLeaseMs, log }),
  });

  const metrics = config.metricsEnabled ? new Metrics({ activeTurns: () => bot.activeTurns }) : undefined;
  const surfaces: Surface[] = [];
  // Messages being streamed are remembered, so a crash of this (or another) process never leaves a cursor.
  const inflight = new InflightMessages(store.state, store.atomic, { cursor: config.cursor, log });
  await inflight.start();
  const finishers: Record<string, Finisher> = {};
  // With Redis, replicas draw platform edits from one shared window per workspace/channel.
  const budgetsFor = (name: string, edits: number, perMs: number): EditBudgetSource => {
    const local = new EditBudgets({ edits, perMs });
    const source = store.redisEval
      ? new SharedEditBudgets(local, store.redisEval, { edits, perMs, name })
      : local;
    return metrics ? metrics.countBudgets(name, source) : source;
  };
  let web: FastifyInstance | undefined;
  if (config.web.enabled) {
    web = await createWebServer({
      bot,
      config: { ...config.web, cursor: config.cursor },
      log,
      modelStatus: () => (model ? { configured: true } : { configured: false, message: NO_MODEL_HELP }),
    });
  }

  if (config.slack.botToken) {
    if (!config.slack.appToken && !web) {
      log.warn(
        "Slack: off, HTTP events need the web server (WEB_ENABLED=true) or SLACK_APP_TOKEN for Socket Mode",
      );
    } else {
      const slack = await startSlack({
        bot,
        config: config.slack,
        cursor: config.cursor,
        log,
        http: web,
        budgets: budgetsFor("slack", config.slack.editsPerMinute, 60_000),
        inflight,
      });
      finishers.slack = slack.finishMessage;
      surfaces.push({
        name: "slack",
        stop: (graceMs) => slack.stop({ graceMs }),
        ready: () => slack.ready(),
      });
      log.info(`Slack: on (${config.slack.appToken ? "Socket Mode" : "HTTP events at /slack/events"})`);
    }
  } else log.info("Slack: off, SLACK_BOT_TOKEN is not set");

  if (config.discord.token) {
    const discord = await startDiscord({
      bot,
      config: config.discord,
      cursor: config.cursor,
      log,
      budgets: budgetsFor("discord", config.discord.editsPer5s, 5_000),
      inflight,
    });
    finishers.discord = discord.finishMessage;
    surfaces.push({
      name: "discord",
      stop: (graceMs) => discord.stop({ graceMs }),
      ready: () => discord.ready(),
    });
    log.info("Discord: on (gateway connected)");
  } else log.info("Discord: off, DISCORD_TOKEN is not set");

  if (web) {
    const checks: Record<string, ReadyCheck> = {
      // Not ready once shutting down, so a load balancer stops sending new requests at once.
      accepting: async () => !bot.isDraining,
      store: () => store.exists("ready:probe").then(() => true),
    };
    for (const s of surfaces) if (s.ready) checks[s.name] = s.ready;
    registerOpsRoutes(web, { checks, metricsText: metrics ? () => metrics.text() : undefined });
    if (metrics) log.info("Metrics: on, at /metrics");
    await web.listen({ port: config.web.port, host: config.web.host });
    const address = web.server.address();
    const port = typeof address === "object" && address ? address.port : config.web.port;
    const shown = config.web.host === "0.0.0.0" ? "localhost" : config.web.host;
    log.info(`Web: chat page and API at http://${shown}:${port}/`);
  } else log.info("Web: off, WEB_ENABLED=false");

  const sweep = () =>
    inflight
      .sweep(finishers)
      .then((n) => n > 0 && log.info({ finished: n }, "finished messages a stopped process left streaming"))
      .catch((err) => log.warn({ err }, "could not finish messages left streaming"));
  void sweep();
  const sweepTimer = setInterval(sweep, 30_000);
  sweepTimer.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, activeTurns: bot.activeTurns }, "shutting down: finishing turns in flight");
    // Platforms stop taking events at once (Slack HTTP answers 503, so Slack redelivers elsewhere);
    // turns in flight get SHUTDOWN_TIMEOUT_MS to finish, then end with a final edit saying so.
    // Platforms wait 2 s longer than the core, so turns end with the restart note (ShutdownError)
    // rather than being cut as a plain stop.
    const graceMs = config.shutdownTimeoutMs;
    // Final edits can still be waiting for a platform's edit budget; never hang past this.
    const hardStopMs = graceMs + 15_000;
    setTimeout(() => {
      log.error({ activeTurns: bot.activeTurns }, `shutdown took over ${hardStopMs} ms: exiting now`);
      log.flush();
      process.exit(1);
    }, hardStopMs).unref();
    const stopped = Promise.all(
      surfaces.map((s) =>
        s.stop(graceMs + 2_000).catch((err) => log.error({ err, surface: s.name }, "could not stop cleanly")),
      ),
    );
    if (!(await bot.drain(graceMs))) {
      log.warn({ activeTurns: bot.activeTurns }, "shutdown timeout: stopping the turns still running");
      bot.abortAll(new ShutdownError());
      await bot.drain(5_000);
    }
    await stopped;
    clearInterval(sweepTimer);
    await inflight.stop().catch((err) => log.warn({ err }, "could not unregister this process"));
    await web?.close().catch((err) => log.error({ err }, "could not close the web server"));
    await store.close().catch((err) => log.error({ err }, "could not close the store"));
    log.info("stopped");
    log.flush();
    setTimeout(() => process.exit(0), 100).unref();
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

/** With no provider configured, a local Ollama answering on its default port is used (issue: easy setup). */
async function useLocalOllamaIfNothingElse(config: Config, log: Logger): Promise<void> {
  if (config.llm.provider) return;
  const found = await detectOllama();
  if (!found) return;
  config.llm.provider = "openai";
  config.llm.openaiBaseUrl = `${OLLAMA_URL}/v1`;
  config.llm.model = found;
  log.info(`Model: nothing configured, but Ollama answers at ${OLLAMA_URL}: using its model ${found}`);
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
