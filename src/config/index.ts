import { existsSync } from "node:fs";
import dotenv from "dotenv";
import { z } from "zod";
import type { OtherErrorCode } from "../errors.js";
import { bool, int, list, num, oneOf, shardCount, str, url } from "./fields.js";
import { readConfigFile } from "./file.js";
import { mcpServersOf, readMcpConfig } from "./mcp.js";
import { envModels, modelsOf } from "./models.js";
import type {
  AccessConfig,
  Config,
  Limits,
  LlmConfig,
  McpServerConfig,
  ModelConfig,
  Price,
  Provider,
  SlackStreaming,
  ToolsConfig,
} from "./types.js";

export type {
  AccessConfig,
  Config,
  Limits,
  LlmConfig,
  McpServerConfig,
  ModelConfig,
  Price,
  Provider,
  SlackStreaming,
  ToolsConfig,
};

/**
 * What the assistant pane suggests by default (SLACK_SUGGESTED_PROMPTS, `|`-separated, "none"
 * for none). Slack shows at most four.
 * @see https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 */
export const DEFAULT_SLACK_PROMPTS = [
  "Explain a concept to me in simple terms",
  "Help me write a short message to my team",
  "Review this text for clarity",
  "Brainstorm ideas with me",
];
const MAX_SUGGESTED_PROMPTS = 4;

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

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const schema = z.object({
  LLM_PROVIDER: oneOf(["openai", "anthropic"] as const),
  LLM_MODEL: str(),
  OPENAI_API_KEY: str(),
  OPENAI_BASE_URL: url(["http:", "https:"]),
  ANTHROPIC_API_KEY: str(),
  ANTHROPIC_BASE_URL: url(["http:", "https:"]),
  CONFIG_FILE: str(),
  MCP_CONFIG: str(),
  TOOL_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  TOOL_MAX_ROUNDS: int(5, 1, 50),
  TOOL_APPROVAL_TIMEOUT_MS: int(600_000, 100, 86_400_000),
  TOOL_RESULT_MAX_CHARS: int(4_000, 100, 1_000_000),
  SYSTEM_PROMPT: str(),
  LLM_TEMPERATURE: num(0, 2),
  LLM_MAX_OUTPUT_TOKENS: int(1024, 1, 1_000_000),
  LLM_IDLE_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  LLM_CONTEXT_TOKENS: int(16_000, 256, 10_000_000),
  LLM_VISION: bool(true),
  ATTACHMENT_MAX_FILE_MB: int(20, 1, 1024),
  ATTACHMENT_MAX_FILES: int(5, 0, 100),
  ATTACHMENT_MAX_IMAGES: int(4, 0, 100),
  ATTACHMENT_MAX_DOCUMENT_CHARS: int(50_000, 100, 10_000_000),
  LLM_MAX_CONCURRENT_CALLS: int(16, 1, 100_000),
  LLM_QUEUE_TIMEOUT_MS: int(10_000, 0, 600_000),
  STORE_URL: url(["sqlite:", "redis:", "rediss:", "postgres:", "postgresql:"]),
  MEMORY_MAX_MESSAGES: int(100, 2, 100_000),
  MEMORY_TTL_DAYS: int(30, 1, 3650),
  MEMORY_MAX_ATTACHMENTS: int(10, 0, 10_000),
  MEMORY_MAX_ATTACHMENT_MB: int(20, 0, 100_000),
  TURN_LOCK_LEASE_MS: int(4_000, 1_000, 600_000),
  LOG_LEVEL: oneOf(LOG_LEVELS),
  PORT: int(3000, 0, 65_535),
  HOST: str(),
  WEB_ENABLED: bool(true),
  WEB_API_KEY: str(),
  WEB_CORS_ORIGINS: str(),
  WEB_MAX_MESSAGE_CHARS: int(10_000, 1, 1_000_000),
  WEB_MAX_UPLOAD_MB: int(20, 0, 1024),
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
  SLACK_STREAMING: oneOf(["auto", "native", "edit"] as const),
  SLACK_SUGGESTED_PROMPTS: str(),
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

export const DEFAULT_MODELS: Record<Provider, string> = {
  openai: "gpt-4o-mini",
  anthropic: "claude-sonnet-4-5",
};

export const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful assistant in a team chat. Answer concisely and use Markdown where it helps. " +
  "Several people may write in one conversation; each of their messages starts with their name in brackets.";

const MB = 1024 * 1024;

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
  const fileRead = e.CONFIG_FILE ? readConfigFile(e.CONFIG_FILE) : { file: undefined, problems: [] };
  problems.push(...fileRead.problems);
  const mcpRead = e.MCP_CONFIG ? readMcpConfig(e.MCP_CONFIG) : { servers: {}, problems: [] };
  problems.push(...mcpRead.problems);
  const servers = mcpServersOf(fileRead.file?.mcpServers ?? {}, mcpRead.servers, e.MCP_CONFIG, problems);
  const llm: LlmConfig = {
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
    vision: e.LLM_VISION,
  };
  const models = fileRead.file ? modelsOf(fileRead.file, llm, env, problems) : envModels(llm);
  if (problems.length > 0) throw new ConfigError(problems);
  const access = fileRead.file?.access;
  const limits = fileRead.file?.limits ?? {};

  return {
    llm,
    tools: {
      servers,
      callTimeoutMs: e.TOOL_TIMEOUT_MS,
      maxRounds: e.TOOL_MAX_ROUNDS,
      approvalTimeoutMs: e.TOOL_APPROVAL_TIMEOUT_MS,
      maxResultChars: e.TOOL_RESULT_MAX_CHARS,
    },
    models,
    defaultModel: fileRead.file?.default_model ?? models[0]?.name,
    access: {
      allowUsers: access?.allow_users ?? [],
      blockUsers: access?.block_users ?? [],
      allowChannels: access?.allow_channels ?? [],
      blockChannels: access?.block_channels ?? [],
      allowRoles: access?.allow_roles ?? [],
      dms: access?.dms ?? true,
    },
    attachments: {
      maxFileBytes: e.ATTACHMENT_MAX_FILE_MB * MB,
      maxFiles: e.ATTACHMENT_MAX_FILES,
      maxImages: e.ATTACHMENT_MAX_IMAGES,
      maxDocumentChars: e.ATTACHMENT_MAX_DOCUMENT_CHARS,
      webMaxUploadBytes: e.WEB_MAX_UPLOAD_MB * MB,
    },
    admins: fileRead.file?.admins ?? [],
    limits: {
      ...(limits.user_daily_tokens !== undefined ? { userDailyTokens: limits.user_daily_tokens } : {}),
      ...(limits.channel_daily_tokens !== undefined
        ? { channelDailyTokens: limits.channel_daily_tokens }
        : {}),
      ...(limits.user_daily_cost !== undefined ? { userDailyCost: limits.user_daily_cost } : {}),
      ...(limits.channel_daily_cost !== undefined ? { channelDailyCost: limits.channel_daily_cost } : {}),
    },
    currency: fileRead.file?.currency ?? "USD",
    store: {
      url: e.STORE_URL ?? DEFAULT_STORE_URL,
      maxMessages: e.MEMORY_MAX_MESSAGES,
      ttlMs: e.MEMORY_TTL_DAYS * 24 * 3600 * 1000,
      maxAttachments: e.MEMORY_MAX_ATTACHMENTS,
      maxAttachmentBytes: e.MEMORY_MAX_ATTACHMENT_MB * MB,
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
      streaming: (e.SLACK_STREAMING?.toLowerCase() ?? "auto") as SlackStreaming,
      suggestedPrompts: suggestedPrompts(e.SLACK_SUGGESTED_PROMPTS),
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

function suggestedPrompts(value: string | undefined): string[] {
  if (value === undefined) return DEFAULT_SLACK_PROMPTS;
  if (value.toLowerCase() === "none") return [];
  return value
    .split("|")
    .map((p) => p.trim())
    .filter(Boolean)
    .slice(0, MAX_SUGGESTED_PROMPTS);
}

/** Every secret in the configuration, for the logger to scrub from every line. */
export function secretsOf(config: Config): string[] {
  return [
    ...config.models.map((m) => m.apiKey),
    config.llm.openaiApiKey,
    config.llm.anthropicApiKey,
    config.slack.botToken,
    config.slack.appToken,
    config.slack.signingSecret,
    config.discord.token,
    config.web.apiKey,
    // An MCP server's headers, and env entries named like secrets, carry its token.
    ...config.tools.servers.flatMap((s) =>
      s.kind === "http"
        ? Object.values(s.headers)
        : Object.entries(s.env)
            .filter(([name]) => /TOKEN|KEY|SECRET|PASSWORD/i.test(name))
            .map(([, value]) => value),
    ),
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
