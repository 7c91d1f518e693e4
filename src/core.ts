import type { Config } from "./config/index.js";
import { FeedbackStore } from "./feedback/index.js";
import { type ChatModel, createModel, detectOllama, OLLAMA_URL } from "./llm/index.js";

import type { Logger } from "./log.js";
import { createStore, type KeyvConversationStore } from "./memory/index.js";
import { Metrics } from "./metrics.js";
import { Replicas } from "./replicas/index.js";
import type { EditBudgetSource } from "./stream/index.js";
import { NO_MODEL_HELP } from "./texts.js";
import { Bot, TurnTracker } from "./turn/index.js";

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
  /** Votes on answers (feedback buttons), kept in the store, counted in the metrics. */
  feedback: FeedbackStore;
  /**
   * Budgets of `edits` requests per `perMs` per scope for `platform`: shared
   * by replicas where the store can count them (in the window family
   * `window`, default the platform's name), and counted in the metrics.
   * `options`: see EditBudgetOptions (`paceMs: 0`: the window only, no pacing).
   */
  budgets(
    platform: string,
    edits: number,
    perMs: number,
    window?: string,
    options?: { paceMs?: number; reserved?: number },
  ): EditBudgetSource;
}

/** Builds the core: model, store, replica machinery, the Bot, metrics. Nothing starts listening. */
export async function buildCore(config: Config, log: Logger): Promise<Core> {
  const model = await chooseModel(config, log);
  const store = createStore(config.store.url, {
    maxMessages: config.store.maxMessages,
    ttlMs: config.store.ttlMs,
    log,
  });
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
  });
  if (config.metricsEnabled) metrics = new Metrics({ activeTurns: () => bot.activeTurns });
  return {
    config,
    log,
    model,
    store,
    replicas,
    bot,
    // With a store other processes share, a Stop pressed on one replica reaches a turn on another.
    turns: new TurnTracker(log, store.coordination.shared ? { shared: store.state } : {}),
    metrics,
    feedback: new FeedbackStore(store.state, {
      onVote: (vote, previous) => {
        if (vote.value !== previous) metrics?.recordFeedback(vote.platform, vote.value);
      },
    }),
    budgets: (platform, edits, perMs, window = platform, options = {}) => {
      const source = replicas.budgets(window, edits, perMs, options);
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

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}
