import { NO_VISION_NOTE, RESTART_NOTE } from "./texts.js";

/**
 * Every error of this program carries a stable `code` from the lists below;
 * logs, metrics and API answers use it. Three families:
 *
 * - ChatErrorCode: a turn failed; the person in the chat reads `userMessage`.
 *   One catch per turn maps whatever went wrong to one of these (`toChatError`).
 * - StartErrorCode: start-up failed for a reason the operator must fix; the
 *   message says what to do.
 * - OtherErrorCode: failures passed between parts of the program (a platform
 *   call, a bad signature, a bad setting), each logged where it is handled.
 */
export type ChatErrorCode =
  | "auth"
  | "rate_limited"
  | "context_too_long"
  | "network"
  | "timeout"
  | "aborted"
  | "bad_request"
  | "vision_unsupported"
  | "not_configured"
  | "unavailable"
  | "nothing_to_regenerate"
  | "busy"
  | "store_unavailable"
  | "limit_reached"
  | "model_error";

export type StartErrorCode =
  | "slack_no_token"
  | "slack_no_signing_secret"
  | "slack_no_http_server"
  | "slack_bad_token"
  | "discord_no_token"
  | "discord_bad_token"
  | "discord_disallowed_intents"
  | "discord_shard_failed"
  | "shards_need_shared_store"
  | "store_corrupt"
  | "store_locked"
  | "store_unwritable"
  | "store_unreachable";

export type OtherErrorCode =
  /** A setting in the environment is invalid (ConfigError). */
  | "config"
  /** A platform answered "rate limited" (PlatformRateLimitError). */
  | "platform_rate_limited"
  /** A Slack Web API call failed (SlackApiError; `slackCode` says which way). */
  | "slack_api"
  /** A request to /slack/events had a missing, wrong or stale signature. */
  | "slack_signature";

/** Start-up failed for a reason the person running the bot has to fix; `message` says how. */
export class StartError extends Error {
  readonly code: StartErrorCode;
  constructor(code: StartErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "StartError";
    this.code = code;
  }
}

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  /** A short sentence for the person in the chat; never contains secrets. */
  readonly userMessage: string;
  /** Whether trying the same request again may succeed. */
  readonly retryable: boolean;
  /** How long the provider asked us to wait, when it said (ms). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ChatErrorCode,
    message: string,
    userMessage: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.userMessage = userMessage;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class AuthError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super(
      "auth",
      message,
      "The model provider rejected the bot's API key. Ask the bot's admin to check it.",
      {
        cause,
      },
    );
  }
}

export class RateLimitError extends ChatError {
  constructor(message: string, retryAfterMs?: number, cause?: unknown) {
    super("rate_limited", message, "The model is rate limited right now. Please try again in a moment.", {
      retryable: true,
      retryAfterMs,
      cause,
    });
  }
}

export class ContextTooLongError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super(
      "context_too_long",
      message,
      "This conversation is too long for the model. Use /reset to start over.",
      { cause },
    );
  }
}

export class NetworkError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super("network", message, "The bot could not reach the model. Please try again.", {
      retryable: true,
      cause,
    });
  }
}

export class TimeoutError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super("timeout", message, "The model stopped responding. Please try again.", { retryable: true, cause });
  }
}

export class AbortedError extends ChatError {
  constructor(message = "The turn was cancelled", cause?: unknown) {
    super("aborted", message, "Stopped.", { cause });
  }
}

/** A turn someone stopped with the Stop button of its answer. */
export class StoppedError extends ChatError {
  constructor(byName: string) {
    super("aborted", `Stopped by ${byName}`, `Stopped by ${byName}.`);
  }
}

/** A turn cut off because the bot is shutting down (its shutdown timeout ran out). */
export class ShutdownError extends ChatError {
  constructor() {
    super("aborted", "The bot shut down during the turn", RESTART_NOTE);
  }
}

/** A new turn refused because the bot is shutting down; another replica (or the restarted bot) can take it. */
export class UnavailableError extends ChatError {
  constructor() {
    super("unavailable", "The bot is shutting down", "The bot is restarting. Please try again in a moment.", {
      retryable: true,
    });
  }
}

/** Regenerate found no question to answer again (the conversation was reset or has expired). */
export class NothingToRegenerateError extends ChatError {
  constructor() {
    super(
      "nothing_to_regenerate",
      "The conversation has no question to answer again",
      "There is nothing to answer again here: the conversation was reset or has expired.",
    );
  }
}

/**
 * A turn refused because the bot already runs as many model calls as it may
 * (LLM_MAX_CONCURRENT_CALLS) and none finished within LLM_QUEUE_TIMEOUT_MS.
 */
export class BusyError extends ChatError {
  constructor(retryAfterMs: number) {
    super(
      "busy",
      "Too many model calls at once; the turn waited its longest and was refused",
      "The bot is answering too many questions at once right now. Please try again in a minute.",
      { retryable: true, retryAfterMs },
    );
  }
}

/**
 * The memory store failed (locked, unreachable, full, …). `backendCode` is the
 * backend's own error code (`SQLITE_BUSY`, `ECONNREFUSED`, Postgres' SQLSTATE)
 * so the log says what broke; the person reads that memory is unavailable.
 */
export class StoreError extends ChatError {
  /** The backend's error code, e.g. "SQLITE_BUSY"; "unknown" when it gave none. */
  readonly backendCode: string;
  /** What the store was doing: "append", "history", "reset", … */
  readonly operation: string;
  constructor(operation: string, cause: unknown) {
    const backendCode = backendCodeOf(cause);
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      "store_unavailable",
      `memory store ${operation} failed (${backendCode}): ${detail}`,
      "The bot's memory is unavailable right now. Please try again in a moment.",
      { retryable: true, cause },
    );
    this.backendCode = backendCode;
    this.operation = operation;
  }
}

/** The code a backend's driver put on its error (sqlite3, node-redis, pg all use `code`). */
function backendCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  if (err instanceof Error && err.name !== "Error") return err.name;
  return "unknown";
}

/**
 * A new question refused before any model call: the asker or the channel has
 * used a daily limit (src/usage/). `retryAfterMs` is the time until it resets.
 */
export class LimitReachedError extends ChatError {
  constructor(userMessage: string, retryAfterMs: number) {
    super("limit_reached", `daily limit reached: ${userMessage}`, userMessage, { retryAfterMs });
  }
}

export class BadRequestError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super("bad_request", message, "The model refused the request as invalid.", { cause });
  }
}

/** The model refused image input: it has no vision. The turn retries without the images. */
export class VisionUnsupportedError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super("vision_unsupported", message, NO_VISION_NOTE, { cause });
  }
}

export class NotConfiguredError extends ChatError {
  constructor(message: string) {
    super("not_configured", message, message);
  }
}

export class ModelError extends ChatError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super("model_error", message, "The model failed to answer. Please try again.", options);
  }
}

/** Maps anything thrown during a turn to a ChatError (unknown errors become model_error). */
export function toChatError(err: unknown): ChatError {
  if (err instanceof ChatError) return err;
  if (err instanceof Error && err.name === "AbortError") return new AbortedError(err.message, err);
  const message = err instanceof Error ? err.message : String(err);
  return new ModelError(message, { cause: err });
}
