/**
 * Every failure a user can see is a ChatError with a stable `code` and a
 * sentence fit to show in a chat (`userMessage`). One catch per turn maps
 * whatever went wrong to one of these (see `toChatError`).
 */
export type ErrorCode =
  | "auth"
  | "rate_limited"
  | "context_too_long"
  | "network"
  | "timeout"
  | "aborted"
  | "bad_request"
  | "not_configured"
  | "unavailable"
  | "model_error";

export class ChatError extends Error {
  readonly code: ErrorCode;
  /** A short sentence for the person in the chat; never contains secrets. */
  readonly userMessage: string;
  /** Whether trying the same request again may succeed. */
  readonly retryable: boolean;
  /** How long the provider asked us to wait, when it said (ms). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
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

/** A turn cut off because the bot is shutting down (its shutdown timeout ran out). */
export class ShutdownError extends ChatError {
  constructor() {
    super(
      "aborted",
      "The bot shut down during the turn",
      "The bot restarted before finishing this answer. Please ask again.",
    );
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

export class BadRequestError extends ChatError {
  constructor(message: string, cause?: unknown) {
    super("bad_request", message, "The model refused the request as invalid.", { cause });
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
