import type { LOG_LEVELS } from "./index.js";

export type Provider = "openai" | "anthropic";

/** SLACK_STREAMING: see Config["slack"].streaming. */
export type SlackStreaming = "auto" | "native" | "edit";

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
  /** Whether the model accepts images (LLM_VISION); false: images are not sent and the user is told. */
  vision: boolean;
}

/** How much of a message's files is read; the same shape as src/attachments/'s AttachmentLimits. */
export interface AttachmentsConfig {
  /** Largest file downloaded or accepted (bytes); refused before downloading when the platform says. */
  maxFileBytes: number;
  /** Files read per message; later ones are only named. */
  maxFiles: number;
  /** Images sent to the model per message. */
  maxImages: number;
  /** Characters of text kept per document (PDF, DOCX, text file). */
  maxDocumentChars: number;
  /**
   * The web API: decoded bytes of all `attachments` of one request
   * (WEB_MAX_UPLOAD_MB; 0 refuses attachments). The request body limit grows by its base64 size.
   */
  webMaxUploadBytes: number;
}

/** One model the bot may use (the environment's single model, or an entry of CONFIG_FILE's `models:`). */
export interface ModelConfig {
  /** The operator's short name for it, used in settings (`/chatbot model <name>`), logs and metrics. */
  name: string;
  provider: Provider;
  /** The provider's model name. */
  model: string;
  apiKey: string | undefined;
  /** An OpenAI-compatible server (Ollama, vLLM, ...) or a proxy; default the provider's API. */
  baseUrl: string | undefined;
  /** Input budget (system prompt + history) in tokens. */
  contextTokens: number;
  maxOutputTokens: number;
  temperature: number | undefined;
  /** Whether it accepts images (a model's `vision:`; LLM_VISION for the environment's model). */
  vision: boolean;
  /** What its tokens cost, per million (CONFIG_FILE `price:`); absent: usage is counted in tokens only. */
  price?: Price;
}

/** A model's price per million tokens, in the operator's `currency`. */
export interface Price {
  input: number;
  output: number;
  /** Input read from the provider's prompt cache; default `input`. */
  cachedInput?: number;
}

/**
 * Daily limits (CONFIG_FILE `limits:`, or a place's override); absent: no limit.
 * Days are UTC days.
 */
export interface Limits {
  /** Tokens (input + output) one person may use a day, in one workspace or server. */
  userDailyTokens?: number;
  /** Tokens everyone together may use a day in one channel. */
  channelDailyTokens?: number;
  /** The same in cost (needs prices). */
  userDailyCost?: number;
  channelDailyCost?: number;
}

/**
 * Who may use the bot (CONFIG_FILE `access:`), ids as the platforms write
 * them. Empty allow lists allow everyone; block lists win over allow lists.
 */
export interface AccessConfig {
  allowUsers: string[];
  blockUsers: string[];
  allowChannels: string[];
  blockChannels: string[];
  /** Discord role ids: a member with one of them is allowed (as if listed in allowUsers). */
  allowRoles: string[];
  /** Whether the bot answers direct messages. */
  dms: boolean;
}

/**
 * One MCP server (CONFIG_FILE `mcpServers:` or the MCP_CONFIG file): a
 * program started with stdio, or a Streamable HTTP endpoint. `everywhere`:
 * every place may use it unless its settings say otherwise; otherwise only
 * places that turn it on (`/chatbot tools <name> on`).
 */
export type McpServerConfig =
  | {
      name: string;
      kind: "stdio";
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd?: string;
      everywhere: boolean;
    }
  | { name: string; kind: "http"; url: string; headers: Record<string, string>; everywhere: boolean };

/** Tools over MCP (src/tools/). */
export interface ToolsConfig {
  servers: McpServerConfig[];
  /** Longest one tool call may take before the model is told it timed out (ms). */
  callTimeoutMs: number;
  /** Model rounds that may call tools in one turn; after them the model must answer. */
  maxRounds: number;
  /** Longest wait for the asker's Approve/Deny on a tool that changes things (ms); then refused. */
  approvalTimeoutMs: number;
  /** Characters of a tool's result sent to the model and kept with the turn; the rest is cut, marked. */
  maxResultChars: number;
}

export interface Config {
  llm: LlmConfig;
  tools: ToolsConfig;
  attachments: AttachmentsConfig;
  /** Every model the bot may use; empty when none is configured. */
  models: ModelConfig[];
  /** The name of the model places use unless set otherwise; undefined when there is none. */
  defaultModel: string | undefined;
  access: AccessConfig;
  /** User ids (any platform) who may change settings everywhere, besides the platforms' own admins. */
  admins: string[];
  /** The operator's daily limits; a place may override them (`/chatbot limit`). */
  limits: Limits;
  /** The currency of the models' prices (ISO 4217), for showing cost. Default USD. */
  currency: string;
  store: {
    url: string;
    maxMessages: number;
    ttlMs: number;
    /** Images kept per conversation (the oldest go first). */
    maxAttachments: number;
    /** Bytes of images kept per conversation. */
    maxAttachmentBytes: number;
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
    /**
     * How answers stream: "native" (chat.startStream/appendStream/stopStream, seen live by the
     * one person asking), "edit" (a message edited as tokens arrive, seen by everyone), or
     * "auto": native where one person reads (DM threads, the assistant pane), edits elsewhere.
     * Default "auto".
     */
    streaming: SlackStreaming;
    /** Offered when someone opens the assistant pane (Slack shows up to 4); empty: none. */
    suggestedPrompts: string[];
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
