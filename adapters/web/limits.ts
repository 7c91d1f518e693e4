import { createHash } from "node:crypto";
import { fastifyRateLimit, normalizeIP } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { errorBody, WebError } from "./http.js";

/** What one client may spend on the chat routes. */
export interface ClientLimitOptions {
  /** Chat requests per client per minute; past it, 429 with Retry-After. */
  ratePerMinute: number;
  /** Chat answers one client may have running at once; past it, 429. */
  maxConcurrent: number;
  /** When set, clients are told apart by their key; else by address. */
  apiKey: string | undefined;
}

/**
 * Who a request is for the limits: its API key when the server has one (a
 * leaked key used from many addresses is still one client), else its address
 * (an IPv6 /64 counts as one, as the plugin does by default).
 */
export function clientKey(request: FastifyRequest, apiKey: string | undefined): string {
  if (apiKey !== undefined) {
    const token = (request.headers.authorization ?? "").replace(/^Bearer\s+/i, "").trim();
    return `key:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
  }
  return `ip:${normalizeIP(request.ip)}`;
}

/**
 * The per-client limits of the chat routes as onRequest hooks: a rate per
 * minute counted by @fastify/rate-limit (in this process), then answers
 * running at once. Both refuse with 429, `Retry-After` and a reason before
 * anything reaches the model.
 */
export async function chatLimitHooks(
  scope: FastifyInstance,
  options: ClientLimitOptions,
): Promise<onRequestAsyncHookHandler[]> {
  const keyOf = (request: FastifyRequest) => clientKey(request, options.apiKey);
  await scope.register(fastifyRateLimit, { global: false });
  const rate = scope.rateLimit({
    max: options.ratePerMinute,
    timeWindow: 60_000,
    keyGenerator: keyOf,
    errorResponseBuilder: (_request, context) =>
      new WebError(
        429,
        "rate_limited",
        `Too many chat requests from this client: the limit is ${context.max} a minute. Try again in ${context.after}.`,
      ),
  });
  const running = new Map<string, number>();
  const concurrency = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const key = keyOf(request);
    const now = running.get(key) ?? 0;
    if (now >= options.maxConcurrent) {
      reply
        .code(429)
        .header("retry-after", "1")
        .send(
          errorBody(
            "too_many_running",
            `This client already has ${now} answers running (the limit is ${options.maxConcurrent}). Wait for one to finish.`,
          ),
        );
      return reply;
    }
    running.set(key, now + 1);
    // "close" comes once the answer is sent or the client went away, streams (hijacked) included.
    reply.raw.once("close", () => {
      const left = (running.get(key) ?? 1) - 1;
      if (left <= 0) running.delete(key);
      else running.set(key, left);
    });
  };
  return [rate as onRequestAsyncHookHandler, concurrency];
}
