import {
  AbortedError,
  AuthError,
  BadRequestError,
  type ChatError,
  ContextTooLongError,
  ModelError,
  NetworkError,
  RateLimitError,
  TimeoutError,
  toChatError,
  VisionUnsupportedError,
} from "../errors.js";
import { retryAfterMs } from "./resilience.js";

/** The fields both official SDKs (OpenAI's and Anthropic's) put on their APIError. */
interface SdkError {
  name?: string;
  status?: number;
  message?: string;
  headers?: Headers | Record<string, string>;
  error?: unknown;
  code?: string | null;
  type?: string;
}

const CONTEXT_PATTERNS = [
  /context[_ ]length/i,
  /maximum context/i,
  /prompt is too long/i,
  /too many tokens/i,
  /input length .* exceed/i,
  /context window/i,
];

/**
 * How providers and compatible servers refuse images for a model without
 * vision: OpenAI ("image_url is only supported by certain models"), Ollama,
 * vLLM ("not a multimodal model"), LM Studio, OpenRouter ("support image input").
 */
const NO_VISION_PATTERNS = [
  /image_url is only supported/i,
  /does not support (images?|vision|image input)/i,
  /(images?|vision|image input) (is|are) not supported/i,
  /not a multimodal model/i,
  /support image input/i,
  /unsupported content type.{0,20}image/i,
];

/**
 * Maps an error from either SDK to a ChatError. Both SDKs are generated alike:
 * HTTP failures carry `status` and `headers`; connection failures are
 * APIConnectionError / APIConnectionTimeoutError; a user abort is APIUserAbortError.
 */
export function mapSdkError(err: unknown, provider: string): ChatError {
  if (err && typeof err === "object") {
    const e = err as SdkError;
    // The SDKs' error classes leave `name` as "Error"; their constructor names are stable.
    const kind = (err as object).constructor?.name ?? e.name;
    const detail = `${provider}: ${e.message ?? String(err)}`;
    if (kind === "APIUserAbortError" || e.name === "AbortError") return new AbortedError(detail, err);
    if (kind === "APIConnectionTimeoutError") return new TimeoutError(detail, err);
    if (kind === "APIConnectionError") return new NetworkError(detail, err);
    const body = JSON.stringify(e.error ?? "");
    const status = e.status;
    if (typeof status === "number") {
      if (status === 401 || status === 403) return new AuthError(detail, err);
      if (status === 429) {
        // OpenAI answers 429 for an exhausted quota too; waiting will not help.
        if (/insufficient_quota/.test(body)) return new ModelError(detail, { cause: err });
        return new RateLimitError(detail, retryAfterMs(e.headers), err);
      }
      if (status === 413 || CONTEXT_PATTERNS.some((p) => p.test(body) || p.test(e.message ?? "")))
        return new ContextTooLongError(detail, err);
      if (status === 408) return new TimeoutError(detail, err);
      if (
        (status === 400 || status === 404 || status === 422) &&
        NO_VISION_PATTERNS.some((p) => p.test(body) || p.test(e.message ?? ""))
      )
        return new VisionUnsupportedError(detail, err);
      if (status === 400 || status === 404 || status === 422) return new BadRequestError(detail, err);
      // 5xx and Anthropic's 529 "overloaded" are worth another try.
      if (status >= 500) return new ModelError(detail, { retryable: true, cause: err });
    }
    if (e.name === "TypeError" && /fetch|terminated|socket/i.test(e.message ?? ""))
      return new NetworkError(detail, err);
  }
  return toChatError(err);
}
