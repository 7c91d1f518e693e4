import { existsSync } from "node:fs";
import dotenv from "dotenv";
import { z } from "zod";
import type { OtherErrorCode } from "../errors.js";
import { bool, int, list, num, oneOf, shardCount, str, url } from "./fields.js";

/**
 * The one place that reads process.env. Every variable is listed, with its
 * default, in .env.example and README's configuration table; keep all three
 * in step. A bad value stops start-up with a ConfigError naming the variable
 * and what it accepts.
 */

export class ConfigError extends Error {
  readonly code: OtherErrorCode = "config";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const schema = z.object({
  LLM_PROVIDER: oneOf(["openai", "anthropic"] as const),
  LLM_MODEL: str(),
  OPENAI_API_KEY: str(),
  OPENAI_BASE_URL: url(["http:", "https:"]),
  ANTHROPIC_API_KEY: str(),
  ANTHROPIC_BASE_URL: url(["http:", "https:"]),
  SYSTEM_PROMPT: str(),
  LLM_TEMPERATURE: num(0, 2),
  LLM_MAX_OUTPUT_TOKENS: int(1024, 1, 1_000_000),
  LLM_IDLE_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  LLM_CONTEXT_TOKENS: int(16_000, 256, 10_000_000),
  LLM_MAX_CONCURRENT_CALLS: int(16, 1, 100_000),
  LLM_QUEUE_TIMEOUT_MS: int(10_000, 0, 600_000),
  STORE_URL: url(["sqlite:", "redis:", "rediss:", "postgres:", "postgresql:"]),
  MEMORY_MAX_MESSAGES: int(100, 2, 100_000),
  MEMORY_TTL_DAYS: int(30, 1, 3650),
  TURN_LOCK_LEASE_MS: int(30_000, 1_000, 600_000),
  LOG_LEVEL: oneOf(LOG_LEVELS),
  PORT: int(3000, 0, 65_535),
  HOST: str(),
  WEB_ENABLED: bool(true),
  WEB_API_KEY: str(),
  WEB_CORS_ORIGINS: str(),
  WEB_MAX_MESSAGE_CHARS: int(10_000, 1, 1_000_000),
  WEB_ALLOWED_HOSTS: str(),
  WEB_TRUST_PROXY: bool(false),
  WEB_HEADERS_TIMEOUT_MS: int(10_000, 100, 600_000),
  WEB_REQUEST_TIMEOUT_MS: int(120_000, 100, 3_600_000),
  WEB_IDLE_TIMEOUT_MS: int(72_000, 100, 3_600_000),
  WEB_RATE_LIMIT_PER_MINUTE: int(30, 1, 1_000_000),
  WEB_MAX_CONCURRENT_PER_CLIENT: int(4, 1, 100_000),
  METRICS_ENABLED: bool(false),
  STREAM_CURSOR: str(),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 0, 600_000),
  SLACK_BOT_TOKEN: str(),
  SLACK_APP_TOKEN: str(),
  SLACK_SIGNING_SECRET: str(),
  SLACK_API_URL: url(["http:", "https:"]),
  SLACK_REQUIRE_MENTION: bool(false),
  // chat.update is Tier 3, about 50 a minute per workspace: https://api.slack.com/methods/chat.update
  SLACK_EDITS_PER_MINUTE: int(50, 1, 10_000),
  DISCORD_TOKEN: str(),
  DISCORD_GUILD_ID: str(),
  DISCORD_API_URL: url(["http:", "https:"]),
  DISCORD_REQUIRE_MENTION: bool(false),
  // Discord allows about 5 message edits per 5 s per channel (its per-route buckets):
  // https://discord.com/developers/docs/topics/rate-limits
  DISCORD_EDITS_PER_5S: int(5, 1, 1000),
  DISCORD_SHARDS: shardCount(),
  DISCORD_SHARD_SPAWN_DELAY_MS: int(5_500, 0, 600_000),
});

export type Provider = "openai" | "anthropic";

export interface LlmConfig {
  /** Which SDK to use; null when nothing is configured (the bot starts and says what to set). */
  provider: Provider | null;
  /** Model name; defaults per provider (see DEFAULT_MODELS). */
  model: string;
  openaiApiKey: string | undefined;
  /** Any OpenAI-compatible server, e.g. Ollama's http://localhost:11434/v1. */
  openaiBaseUrl: string | undefined;
  anthropicApiKey: string | undefined;
  anthropicBaseUrl: string | undefined;
  systemPrompt: string;
  temperature: number | undefined;
  maxOutputTokens: number;
  /** Longest silence between two streamed tokens before the turn fails (ms); not a whole-stream limit. */
  idleTimeoutMs: number;
  /** Retries of transient failures before the first token. */
  maxRetries: number;
  /** Input budget for history + system prompt, in tokens. */
  contextTokens: number;
}

export interface Config {
  llm: LlmConfig;
  store: {
    url: string;
    maxMessages: number;
    ttlMs: number;
    /** With Redis/Postgres: how long a crashed replica's turn lock blocks its conversation (ms). */
    lockLeaseMs: number;
  };
  logLevel: (typeof LOG_LEVELS)[number];
  web: {
    enabled: boolean;
    port: number;
    /** 127.0.0.1 unless an API key is set (then 0.0.0.0), or HOST. */
    host: string;
    apiKey: string | undefined;
    corsOrigins: string[];
    maxMessageChars: number;
    /**
     * Host names the server answers to besides its own (localhost, 127.0.0.1,
     * [::1], the bound address, this machine's addresses and name): the public
     * names of a proxy in front. "*" turns the check off.
     */
    allowedHosts: string[];
    /** Take the client's address from X-Forwarded-For (behind a proxy that sets it). */
    trustProxy: boolean;
    /** Longest time to receive a request's headers (ms). */
    headersTimeoutMs: number;
    /** Longest time to receive a whole request, headers and body (ms). */
    requestTimeoutMs: number;
    /** A keep-alive connection idle this long is closed, and so is a stream whose reader stopped reading (ms). */
    idleTimeoutMs: number;
    /** Chat requests (POST /chat, /chat/stream) per client (API key, else address) per minute. */
    ratePerMinute: number;
    /** Chat answers one client may have running at once. */
    maxConcurrentPerClient: number;
  };
  /** The cap on model calls at once across every surface (src/turn/model-calls.ts). */
  modelCalls: {
    maxConcurrent: number;
    /** Longest wait for a free model call before the turn is refused (ms). */
    queueTimeoutMs: number;
  };
  metricsEnabled: boolean;
  cursor: string;
  shutdownTimeoutMs: number;
  slack: {
    botToken: string | undefined;
    appToken: string | undefined;
    signingSecret: string | undefined;
    apiUrl: string | undefined;
    requireMention: boolean;
    editsPerMinute: number;
  };
  discord: {
    token: string | undefined;
    guildId: string | undefined;
    apiUrl: string | undefined;
    requireMention: boolean;
    editsPer5s: number;
  };
  /** Only for the sharded entry (`npm run start:shards`, src/shards.ts). */
  discordShards: {
    /** How many shards (one process each); "auto" asks Discord's GET /gateway/bot. Default "auto". */
    count: number | "auto";
    /**
     * Pause between starting two shards (ms). Discord lets a bot start (IDENTIFY)
     * one shard per 5 s unless its max_concurrency is higher. Default 5500.
     * @see https://discord.com/developers/docs/events/gateway#session-start-limit-object
     */
    spawnDelayMs: number;
  };
}

export const DEFAULT_MODELS: Record<Provider, string> = {
  openai: "gpt-4o-mini",
  anthropic: "claude-sonnet-4-5",
};

export const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful assistant in a team chat. Answer concisely and use Markdown where it helps. " +
  "Several people may write in one conversation; each of their messages starts with their name in brackets.";

export const DEFAULT_STORE_URL = "sqlite://./data/chatbot.sqlite";

function inferProvider(e: z.infer<typeof schema>): Provider | null {
  if (e.LLM_PROVIDER) return e.LLM_PROVIDER.toLowerCase() as Provider;
  if (e.ANTHROPIC_API_KEY && !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL) return "anthropic";
  if (e.OPENAI_API_KEY || e.OPENAI_BASE_URL) return "openai";
  return null;
}

/**
 * Reads and validates the configuration. `env` defaults to process.env; pass
 * `dotenvPath` to also read a .env file (values already in env win).
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; dotenvPath?: string } = {}): Config {
  const env = { ...(options.env ?? process.env) };
  if (options.dotenvPath && existsSync(options.dotenvPath)) {
    const parsed = dotenv.config({ path: options.dotenvPath, processEnv: {}, quiet: true }).parsed ?? {};
    for (const [k, v] of Object.entries(parsed)) if (env[k] === undefined) env[k] = v;
  }
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const name = String(i.path[0]);
      return `${name}=${JSON.stringify(env[name] ?? "")} ${i.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = result.data;
  const provider = inferProvider(e);
  const problems: string[] = [];
  if (provider === "anthropic" && !e.ANTHROPIC_API_KEY && !e.ANTHROPIC_BASE_URL)
    problems.push("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY");
  if (e.SLACK_BOT_TOKEN && !e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET)
    problems.push(
      "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP events) is",
    );
  if (e.WEB_HEADERS_TIMEOUT_MS > e.WEB_REQUEST_TIMEOUT_MS)
    problems.push(
      `WEB_HEADERS_TIMEOUT_MS=${e.WEB_HEADERS_TIMEOUT_MS} must not exceed WEB_REQUEST_TIMEOUT_MS=${e.WEB_REQUEST_TIMEOUT_MS}`,
    );
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    llm: {
      provider,
      model: e.LLM_MODEL ?? (provider ? DEFAULT_MODELS[provider] : DEFAULT_MODELS.openai),
      openaiApiKey: e.OPENAI_API_KEY,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      anthropicApiKey: e.ANTHROPIC_API_KEY,
      anthropicBaseUrl: e.ANTHROPIC_BASE_URL,
      systemPrompt: e.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
      temperature: e.LLM_TEMPERATURE,
      maxOutputTokens: e.LLM_MAX_OUTPUT_TOKENS,
      idleTimeoutMs: e.LLM_IDLE_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      contextTokens: e.LLM_CONTEXT_TOKENS,
    },
    store: {
      url: e.STORE_URL ?? DEFAULT_STORE_URL,
      maxMessages: e.MEMORY_MAX_MESSAGES,
      ttlMs: e.MEMORY_TTL_DAYS * 24 * 3600 * 1000,
      lockLeaseMs: e.TURN_LOCK_LEASE_MS,
    },
    logLevel: (e.LOG_LEVEL?.toLowerCase() ?? "info") as Config["logLevel"],
    web: {
      enabled: e.WEB_ENABLED,
      port: e.PORT,
      host: e.HOST ?? (e.WEB_API_KEY ? "0.0.0.0" : "127.0.0.1"),
      apiKey: e.WEB_API_KEY,
      corsOrigins: list(e.WEB_CORS_ORIGINS),
      maxMessageChars: e.WEB_MAX_MESSAGE_CHARS,
      allowedHosts: list(e.WEB_ALLOWED_HOSTS),
      trustProxy: e.WEB_TRUST_PROXY,
      headersTimeoutMs: e.WEB_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.WEB_REQUEST_TIMEOUT_MS,
      idleTimeoutMs: e.WEB_IDLE_TIMEOUT_MS,
      ratePerMinute: e.WEB_RATE_LIMIT_PER_MINUTE,
      maxConcurrentPerClient: e.WEB_MAX_CONCURRENT_PER_CLIENT,
    },
    modelCalls: { maxConcurrent: e.LLM_MAX_CONCURRENT_CALLS, queueTimeoutMs: e.LLM_QUEUE_TIMEOUT_MS },
    metricsEnabled: e.METRICS_ENABLED,
    cursor: e.STREAM_CURSOR ?? "▌",
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL,
      requireMention: e.SLACK_REQUIRE_MENTION,
      editsPerMinute: e.SLACK_EDITS_PER_MINUTE,
    },
    discord: {
      token: e.DISCORD_TOKEN,
      guildId: e.DISCORD_GUILD_ID,
      apiUrl: e.DISCORD_API_URL,
      requireMention: e.DISCORD_REQUIRE_MENTION,
      editsPer5s: e.DISCORD_EDITS_PER_5S,
    },
    discordShards: {
      count: e.DISCORD_SHARDS,
      spawnDelayMs: e.DISCORD_SHARD_SPAWN_DELAY_MS,
    },
  };
}

/** Every secret in the configuration, for the logger to scrub from every line. */
export function secretsOf(config: Config): string[] {
  return [
    config.llm.openaiApiKey,
    config.llm.anthropicApiKey,
    config.slack.botToken,
    config.slack.appToken,
    config.slack.signingSecret,
    config.discord.token,
    config.web.apiKey,
  ].filter((s): s is string => s !== undefined);
}

/** loadConfig from the environment and ./.env; a bad value ends the process with its message (exit 1). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig({ dotenvPath: ".env" });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
