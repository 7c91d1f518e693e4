import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ChatError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";

/**
 * A request the API refuses. `code` is the stable machine-readable reason
 * clients branch on; `message` is a sentence for a person.
 */
export class WebError extends Error {
  readonly code: string;
  readonly statusCode: number;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = "WebError";
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** The one JSON error shape of the API: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * HTTP status for a model failure on POST /chat. Upstream trouble is 502/504
 * (the request was fine, the model was not); a missing model is 503.
 */
export function statusForChatError(err: ChatError): number {
  switch (err.code) {
    case "not_configured":
    case "unavailable":
    case "busy":
    case "store_unavailable":
      return 503;
    case "rate_limited":
    case "limit_reached":
      return 429;
    case "context_too_long":
      return 422;
    case "timeout":
      return 504;
    case "aborted":
      // The client is gone; nobody reads this status, but logs should not call it a server error.
      return 499;
    default:
      return 502;
  }
}

/** A turn's failure as the API's answer: its status, Retry-After when known, the user's sentence. */
export function sendChatError(reply: FastifyReply, err: ChatError): FastifyReply {
  if (err.retryAfterMs !== undefined) reply.header("retry-after", String(Math.ceil(err.retryAfterMs / 1000)));
  return reply.code(statusForChatError(err)).send(errorBody(err.code, err.userMessage));
}

/** The body of a request that took longer than WEB_REQUEST_TIMEOUT_MS to arrive (Node answers it on the socket). */
export const REQUEST_TIMEOUT_BODY = JSON.stringify(
  errorBody("request_timeout", "The request took too long to arrive; the connection was closed."),
);

/** Maps Fastify's own failures (body parsing, size, media type) to the API's error shape. */
export function installErrorHandlers(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err instanceof WebError) {
      return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    }
    // A route that reached the core and failed there (e.g. the store, on GET /conversations/:id).
    if (err instanceof ChatError) return sendChatError(reply, err);
    switch (err.code) {
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return reply
          .code(415)
          .send(
            errorBody("unsupported_media_type", "Send the body as JSON with Content-Type: application/json."),
          );
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return reply.code(413).send(errorBody("payload_too_large", "The request body is too large."));
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        return reply.code(400).send(errorBody("invalid_request", "The Content-Length header is wrong."));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      log.error({ err }, "web request failed");
      return reply.code(500).send(errorBody("internal", "Something went wrong on the server."));
    }
    return reply.code(status).send(errorBody("invalid_request", err.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody("not_found", `No route ${request.method} ${request.url.split("?")[0]}.`));
  });
}

/**
 * Parses JSON bodies for the API's routes only. Fastify's own parser is
 * replaced so the error codes are ours, an empty body reaches validation (and
 * gets a precise message), and other adapters' parsers cannot leak in.
 */
export function installJsonParser(app: FastifyInstance, bodyLimitBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/json",
    { parseAs: "string", bodyLimit: bodyLimitBytes },
    (_request, body, done) => {
      const text = typeof body === "string" ? body : body.toString("utf8");
      if (text.trim() === "") return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new WebError(400, "invalid_json", "The request body is not valid JSON."), undefined);
      }
    },
  );
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Rejects a request without `Authorization: Bearer <apiKey>`; a no-op when no key is configured. */
export function requireApiKey(apiKey: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (apiKey === undefined || request.method === "OPTIONS") return;
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match?.[1] !== undefined && secretEquals(match[1], apiKey)) return;
    reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="chatbot"')
      .send(errorBody("unauthorized", "This server needs an API key: send Authorization: Bearer <key>."));
    return reply;
  };
}

/** Headers every CORS-enabled answer carries, so a browser on an allowed origin can read it. */
const EXPOSED_HEADERS = "x-conversation-id";

/**
 * Minimal CORS: nothing at all unless origins are configured; then allowed
 * origins (or "*") get the headers, and preflights are answered here.
 */
export function installCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const any = origins.includes("*");
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (!origin) return undefined;
    if (any) return "*";
    return allowed.has(origin.toLowerCase()) ? origin : undefined;
  };
  app.addHook("onRequest", async (request, reply) => {
    const origin = allowOrigin(request.headers.origin);
    if (!any) reply.header("vary", "Origin");
    if (!origin) return;
    reply.header("access-control-allow-origin", origin);
    reply.header("access-control-expose-headers", EXPOSED_HEADERS);
    if (request.method === "OPTIONS") {
      reply
        .code(204)
        .header("access-control-allow-methods", "GET, POST, DELETE, OPTIONS")
        .header("access-control-allow-headers", "Content-Type, Authorization")
        .header("access-control-max-age", "600")
        .send();
      return reply;
    }
  });
}
