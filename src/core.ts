import type { Config } from "./config/index.js";
import { FeedbackStore } from "./feedback/index.js";
import { createModels, detectOllama, type Models, OLLAMA_URL } from "./llm/index.js";

import type { Logger } from "./log.js";
import { checkStoreAtStart, createStore, type KeyvConversationStore, redactUrl } from "./memory/index.js";
import { Metrics } from "./metrics.js";
import { Replicas } from "./replicas/index.js";
import { Access, PlaceSettings } from "./settings/index.js";
import type { EditBudgetSource } from "./stream/index.js";
import { NO_MODEL_HELP } from "./texts.js";
import { Approvals, ToolServers } from "./tools/index.js";
import { Bot, ModelCallLimiter, TurnTracker } from "./turn/index.js";
import { UsageMeter } from "./usage/index.js";

/** The platform-free parts of a running bot, built once from the configuration. */
export interface Core {
  config: Config;
  log: Logger;
  /** The operator's models by name (empty when none is configured). */
  models: Models;
  /** Per-place settings, shared by replicas through the store. */
  settings: PlaceSettings;
  /** Who may use the bot and change its settings (CONFIG_FILE `access:` and `admins:`). */
  access: Access;
  /** Tokens and cost per user, channel, workspace and model per day, and the daily limits. */
  usage: UsageMeter;
  store: KeyvConversationStore;
  replicas: Replicas;
  bot: Bot;
  /** Every surface's answers in flight. */
  turns: TurnTracker;
  /** Set when METRICS_ENABLED. */
  metrics: Metrics | undefined;
  /** Votes on answers (feedback buttons), kept in the store, counted in the metrics. */
  feedback: FeedbackStore;
  /** The MCP servers (started, or failed: see statuses()), closed at shutdown. */
  tools: ToolServers;
  /** Open questions to approve a tool call; the platforms' Approve/Deny buttons answer them. */
  approvals: Approvals;
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
  const models = await chooseModels(config, log);
  const store = createStore(config.store.url, {
    maxMessages: config.store.maxMessages,
    ttlMs: config.store.ttlMs,
    attachments: {
      maxAttachments: config.store.maxAttachments,
      maxAttachmentBytes: config.store.maxAttachmentBytes,
    },
    log,
  });
  await checkStoreAtStart(store, config.store.url);
  log.info(`Memory: ${redactUrl(config.store.url)}`);
  const replicas = new Replicas(store.state, store.coordination, {
    lockLeaseMs: config.store.lockLeaseMs,
    log,
  });
  const access = new Access(config.access, config.admins);
  const tools = new ToolServers(config.tools.servers, log, config.tools);
  // Every server starts at once; one that cannot is logged (and shown in /ready), the bot answers without it.
  await tools.start();
  // With a store other processes share, a press on another replica answers the question through it.
  const approvals = new Approvals(store.coordination.shared ? { shared: store.state } : {});
  const prices = Object.fromEntries(config.models.map((m) => [m.name, m.price]));
  // The operator's admins are exempt from limits (counted all the same); platform admins are not.
  const usage = new UsageMeter({
    counters: store.coordination.counters,
    limits: config.limits,
    prices,
    currency: config.currency,
    isExempt: (id) => access.isOperatorAdmin(id),
  });
  const settings = new PlaceSettings(
    store.state,
    {
      model: models.default?.name,
      prompt: config.llm.systemPrompt,
      models: models.names,
      limits: config.limits,
      currency: config.currency,
      priced: usage.priced,
      toolServers: { names: tools.names, everywhere: tools.everywhere },
    },
    log,
  );
  let metrics: Metrics | undefined;
  const bot = new Bot({
    models,
    store,
    log,
    systemPrompt: config.llm.systemPrompt,
    settings,
    attachments: config.attachments,
    onTurn: (stats) => metrics?.recordTurn(stats),
    lock: replicas.lock,
    modelCalls: new ModelCallLimiter(config.modelCalls),
    usage,
    ...(tools.configured
      ? {
          tools: {
            servers: tools,
            approvals,
            maxRounds: config.tools.maxRounds,
            approvalTimeoutMs: config.tools.approvalTimeoutMs,
          },
        }
      : {}),
  });
  if (config.metricsEnabled) metrics = new Metrics({ activeTurns: () => bot.activeTurns });
  return {
    config,
    log,
    models,
    settings,
    access,
    usage,
    store,
    replicas,
    bot,
    // With a store other processes share, a Stop pressed on one replica reaches a turn on another.
    turns: new TurnTracker(log, {
      ...(store.coordination.shared ? { shared: store.state } : {}),
      isOperatorAdmin: (id) => access.isOperatorAdmin(id),
    }),
    metrics,
    tools,
    approvals,
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
 * The configured models; with none configured, a local Ollama answering on
 * its default port (easy set-up), else none and a log line saying what to set.
 */
async function chooseModels(config: Config, log: Logger): Promise<Models> {
  if (config.models.length === 0) {
    const found = await detectOllama();
    if (found) {
      const { llm } = config;
      config.models.push({
        name: found,
        provider: "openai",
        model: found,
        apiKey: undefined,
        baseUrl: `${OLLAMA_URL}/v1`,
        contextTokens: llm.contextTokens,
        maxOutputTokens: llm.maxOutputTokens,
        temperature: llm.temperature,
        vision: llm.vision,
      });
      config.defaultModel = found;
      log.info(`Model: nothing configured, but Ollama answers at ${OLLAMA_URL}: using its model ${found}`);
    }
  }
  const models = createModels(config.models, config.defaultModel, config.llm);
  if (!models.default) {
    log.warn(NO_MODEL_HELP);
    return models;
  }
  for (const m of config.models) {
    const at = m.baseUrl ? ` at ${m.baseUrl}` : "";
    const isDefault = m.name === models.default.name ? " (default)" : "";
    log.info(`Model ${m.name}${isDefault}: ${m.provider} ${m.model}${at}`);
  }
  return models;
}
