import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { EditBudget, EditBudgetSource, EditPriority } from "./stream/index.js";
import type { TurnStats } from "./turn/index.js";

/** What a finished render reports (src/stream RenderResult, reduced to counts). */
export interface RenderCounts {
  edits: number;
  rateLimited: number;
}

/**
 * Prometheus metrics (prom-client), served at /metrics when METRICS_ENABLED.
 * Own registry, so tests and several instances never collide.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly turns: Counter<"platform" | "outcome" | "model">;
  private readonly errors: Counter<"code">;
  private readonly ttft: Histogram<"platform">;
  private readonly duration: Histogram<"platform">;
  private readonly deltas: Counter<"platform">;
  private readonly edits: Counter<"platform">;
  private readonly rateLimited: Counter<"platform">;
  private readonly feedback: Counter<"platform" | "value">;
  private readonly activeTurns: Gauge;
  private readonly tokens: Counter<"platform" | "provider" | "model" | "kind">;
  private readonly cost: Counter<"platform" | "provider" | "model">;
  private readonly estimated: Counter<"platform" | "provider" | "model">;
  private readonly toolCalls: Counter<"platform" | "server" | "tool" | "status">;

  /** `activeTurns` is read at each scrape (Bot.activeTurns). */
  constructor(options: { defaultMetrics?: boolean; activeTurns?: () => number } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.turns = new Counter({
      name: "chatbot_turns_total",
      help: "Turns by platform, outcome (ok or error) and model (the operator's name for it).",
      labelNames: ["platform", "outcome", "model"],
      registers,
    });
    this.errors = new Counter({
      name: "chatbot_errors_total",
      help: "Failed turns by error code.",
      labelNames: ["code"],
      registers,
    });
    const seconds = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];
    this.ttft = new Histogram({
      name: "chatbot_time_to_first_token_seconds",
      help: "From the model call to its first token.",
      labelNames: ["platform"],
      buckets: seconds,
      registers,
    });
    this.duration = new Histogram({
      name: "chatbot_turn_duration_seconds",
      help: "Whole turn, queueing included.",
      labelNames: ["platform"],
      buckets: seconds,
      registers,
    });
    this.deltas = new Counter({
      name: "chatbot_stream_deltas_total",
      help: "Text deltas (about one token each) streamed from the model.",
      labelNames: ["platform"],
      registers,
    });
    this.edits = new Counter({
      name: "chatbot_edits_total",
      help: "Requests drawn from a platform's budgets: message posts and edits.",
      labelNames: ["platform"],
      registers,
    });
    this.rateLimited = new Counter({
      name: "chatbot_rate_limited_total",
      help: "429 answers from a platform.",
      labelNames: ["platform"],
      registers,
    });
    this.feedback = new Counter({
      name: "chatbot_feedback_votes_total",
      help: "Feedback votes on answers by platform and value (up or down); a changed vote counts under its new value.",
      labelNames: ["platform", "value"],
      registers,
    });
    // Labelled by model (the operator's short names), provider and platform: bounded. Never by user.
    this.tokens = new Counter({
      name: "chatbot_tokens_total",
      help: "Tokens used by turns, by platform, provider, model and kind (input, output, cached_input: part of input).",
      labelNames: ["platform", "provider", "model", "kind"],
      registers,
    });
    this.cost = new Counter({
      name: "chatbot_cost_total",
      help: "What turns cost at the models' configured prices (CONFIG_FILE currency), by platform, provider and model.",
      labelNames: ["platform", "provider", "model"],
      registers,
    });
    this.estimated = new Counter({
      name: "chatbot_usage_estimated_turns_total",
      help: "Turns whose tokens were counted with a tokenizer because the provider reported no usage.",
      labelNames: ["platform", "provider", "model"],
      registers,
    });
    // Labelled by the operator's servers and their tools (bounded); a name the model made up is "unknown".
    this.toolCalls = new Counter({
      name: "chatbot_tool_calls_total",
      help: "Tool (MCP) calls by platform, server, tool and status (done, error, timeout, refused, unavailable).",
      labelNames: ["platform", "server", "tool", "status"],
      registers,
    });
    const activeTurns = options.activeTurns;
    this.activeTurns = new Gauge({
      name: "chatbot_active_turns",
      help: "Turns running or waiting for their conversation now.",
      registers,
      collect() {
        if (activeTurns) this.set(activeTurns());
      },
    });
  }

  recordTurn(stats: TurnStats): void {
    const platform = stats.platform;
    this.turns.inc({ platform, outcome: stats.error ? "error" : "ok", model: stats.modelName });
    if (stats.error) this.errors.inc({ code: stats.error });
    if (stats.timeToFirstTokenMs !== undefined)
      this.ttft.observe({ platform }, stats.timeToFirstTokenMs / 1000);
    this.duration.observe({ platform }, stats.durationMs / 1000);
    this.deltas.inc({ platform }, stats.deltas);
    const usage = stats.usage;
    if (usage) {
      const labels = { platform, provider: stats.provider, model: stats.modelName };
      this.tokens.inc({ ...labels, kind: "input" }, usage.inputTokens);
      this.tokens.inc({ ...labels, kind: "output" }, usage.outputTokens);
      this.tokens.inc({ ...labels, kind: "cached_input" }, usage.cachedInputTokens);
      if (usage.cost !== undefined) this.cost.inc(labels, usage.cost);
      if (usage.estimated) this.estimated.inc(labels);
    }
    for (const call of stats.toolCalls ?? []) {
      const known = call.server !== undefined;
      this.toolCalls.inc({
        platform,
        server: call.server ?? "unknown",
        tool: known ? call.name : "unknown",
        status: call.status,
      });
    }
  }

  /** A person voted on an answer (a first vote, or a change to `value`); pressing the same button again is not counted. */
  recordFeedback(platform: string, value: string): void {
    this.feedback.inc({ platform, value });
  }

  recordRender(platform: string, counts: RenderCounts): void {
    this.edits.inc({ platform }, counts.edits);
    this.rateLimited.inc({ platform }, counts.rateLimited);
  }

  /**
   * Every post and edit a renderer sends draws on its budget, and every 429
   * pauses it: counting there measures edits and 429s of any adapter.
   */
  countBudgets(platform: string, source: EditBudgetSource): EditBudgetSource {
    const record = (counts: RenderCounts) => this.recordRender(platform, counts);
    return {
      get(scopeKey: string): EditBudget {
        const budget = source.get(scopeKey);
        return {
          async acquire(signal?: AbortSignal, priority?: EditPriority) {
            await budget.acquire(signal, priority);
            record({ edits: 1, rateLimited: 0 });
          },
          pause(ms: number) {
            budget.pause(ms);
            record({ edits: 0, rateLimited: 1 });
          },
        };
      },
    };
  }

  /** This process's metrics as prom-client JSON, for a sharded bot's one view (shardMetricsText). */
  json(): Promise<ShardMetrics> {
    return this.registry.getMetricsAsJSON();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** One process's metrics as prom-client JSON (Metrics.json). */
export type ShardMetrics = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The metrics of every shard of a sharded bot as one Prometheus text: each
 * sample labelled with its `shard`, so every shard's turns show (sum them
 * `by` what you need).
 */
export async function shardMetricsText(
  shards: Array<{ shard: number; metrics: ShardMetrics }>,
): Promise<string> {
  const labelled = shards.map(({ shard, metrics }) =>
    metrics.map((metric) => ({
      ...metric,
      values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, shard: String(shard) } })),
    })),
  );
  return AggregatorRegistry.aggregate(labelled as never).metrics();
}
