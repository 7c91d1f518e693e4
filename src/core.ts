import type { Config } from "./config/index.js";
import { type ChatModel, createModel, detectOllama, OLLAMA_URL } from "./llm/index.js";

import type { Logger } from "./log.js";
import { checkStoreAtStart, createStore, type KeyvConversationStore, redactUrl } from "./memory/index.js";
import { Metrics } from "./metrics.js";
import { Replicas } from "./replicas/index.js";
import type { EditBudgetSource } from "./stream/index.js";
import { NO_MODEL_HELP } from "./texts.js";
import { Bot, ModelCallLimiter, TurnTracker } from "./turn/index.js";

/** The platform-free parts of a running bot, built once from the configuration. */
export interface Core {
  config: Config;
  log: Logger;
  model: ChatModel | null;
  store: KeyvConversationStore;
  replicas: Replicas;
  bot: Bot;
  /** Every surface's answers in flight. */
  turns: TurnTracker;
  /** Set when METRICS_ENABLED. */
  metrics: Metrics | undefined;
  /**
   * Budgets of `edits` requests per `perMs` per scope for `platform`: shared
   * by replicas where the store can count them (in the window family
   * `window`, default the platform's name), and counted in the metrics.
   */
  budgets(platform: string, edits: number, perMs: number, window?: string): EditBudgetSource;
}

/** Builds the core: model, store, replica machinery, the Bot, metrics. Nothing starts listening. */
export async function buildCore(config: Config, log: Logger): Promise<Core> {
  const model = await chooseModel(config, log);
  const store = createStore(config.store.url, {
    maxMessages: config.store.maxMessages,
    ttlMs: config.store.ttlMs,
    log,
  });
  await checkStoreAtStart(store, config.store.url);
  log.info(`Memory: ${redactUrl(config.store.url)}`);
  const replicas = new Replicas(store.state, store.coordination, {
    lockLeaseMs: config.store.lockLeaseMs,
    log,
  });
  let metrics: Metrics | undefined;
  const bot = new Bot({
    model,
    store,
    log,
    systemPrompt: config.llm.systemPrompt,
    contextTokens: config.llm.contextTokens,
    onTurn: (stats) => metrics?.recordTurn(stats),
    lock: replicas.lock,
    modelCalls: new ModelCallLimiter(config.modelCalls),
  });
  if (config.metricsEnabled) metrics = new Metrics({ activeTurns: () => bot.activeTurns });
  return {
    config,
    log,
    model,
    store,
    replicas,
    bot,
    turns: new TurnTracker(log),
    metrics,
    budgets: (platform, edits, perMs, window = platform) => {
      const source = replicas.budgets(window, edits, perMs);
      return metrics ? metrics.countBudgets(platform, source) : source;
    },
  };
}

/**
 * The configured model; with none configured, a local Ollama answering on its
 * default port (easy set-up), else null and a log line saying what to set.
 */
async function chooseModel(config: Config, log: Logger): Promise<ChatModel | null> {
  if (!config.llm.provider) {
    const found = await detectOllama();
    if (found) {
      config.llm.provider = "openai";
      config.llm.openaiBaseUrl = `${OLLAMA_URL}/v1`;
      config.llm.model = found;
      log.info(`Model: nothing configured, but Ollama answers at ${OLLAMA_URL}: using its model ${found}`);
    }
  }
  const model = createModel(config.llm);
  if (!model) {
    log.warn(NO_MODEL_HELP);
    return null;
  }
  const at = config.llm.openaiBaseUrl && model.provider === "openai" ? ` at ${config.llm.openaiBaseUrl}` : "";
  log.info(`Model: ${model.provider} ${model.model}${at}`);
  return model;
}
