import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  fastify,
  LogController,
  type RawServerDefault,
} from "fastify";
import type { Config } from "../../src/config/index.js";
import type { Logger } from "../../src/log.js";
import { NO_MODEL_HELP } from "../../src/texts.js";
import type { Bot, Surface, TurnTracker } from "../../src/turn/index.js";
import type { UsageMeter } from "../../src/usage/index.js";
import { registerApiRoutes } from "./api.js";
import { chatBodyLimitBytes } from "./attachments.js";
import { ownHostNames, requireAllowedOrigin, requireOwnHost } from "./guard.js";
import {
  installCors,
  installErrorHandlers,
  installJsonParser,
  REQUEST_TIMEOUT_BODY,
  requireApiKey,
} from "./http.js";
import { chatLimitHooks } from "./limits.js";
import { registerPageRoutes } from "./page.js";
import { registerUsageRoutes } from "./usage.js";

export { registerFeedbackRoute } from "./feedback.js";
export { type ReadyCheck, registerOpsRoutes } from "./ops.js";

/** The HTTP server the web adapter builds; Slack's HTTP events ride on it too. */
export type HttpServer = FastifyInstance;

/** What the web adapter needs; see createWebServer. */
export interface WebServerOptions {
  bot: Bot;
  /** Every surface's answers in flight; web turns are tracked so shutdown waits for them. */
  turns: TurnTracker;
  /** The web settings plus the streaming cursor the page shows. */
  config: Config["web"] & { cursor: string };
  log: Logger;
  /** Whether a model is configured; shown by the page. Default: whether `bot.model` is set. */
  modelStatus?: () => { configured: boolean; message?: string };
  /** Interval of SSE comment lines during model silence (ms); default 15,000. */
  heartbeatMs?: number;
  /** Decoded bytes of all `attachments` of one chat request (WEB_MAX_UPLOAD_MB); default 20 MB, 0 refuses them. */
  maxUploadBytes?: number;
  /** Usage and limits: GET /usage and the operator's GET /usage/export. */
  usage: UsageMeter;
}

/** How often Node looks for requests past their headers/request timeout (ms); its default is 30 s. */
const TIMEOUT_CHECK_MS = 1_000;

/**
 * Builds the web adapter: the chat API (POST /chat, POST /chat/stream as SSE,
 * GET/DELETE /conversations/:id, GET /usage, GET /usage/export), GET / (status for API clients, the chat page
 * for browsers), GET /health, and the page's assets. It does not listen: the
 * composition root adds its own routes and calls `listen`.
 *
 * Hardening (README, Security): the API and the page answer only to this
 * server's own host names (DNS rebinding) and API requests only from allowed
 * origins; every request must arrive within the headers and request timeouts
 * (slow clients cannot hold sockets); chat requests are limited per client.
 */
export async function createWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const { bot, config } = options;
  const maxUploadBytes = options.maxUploadBytes ?? 20 * 1024 * 1024;
  const log = options.log.child({ component: "web" });
  const modelStatus =
    options.modelStatus ??
    (() => (bot.model ? { configured: true } : { configured: false, message: NO_MODEL_HELP }));

  // Typed with Fastify's base logger so routes other adapters add need not know pino's type.
  const app: FastifyInstance = fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: log,
    // One line per request would drown the turn logs; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    // Node enforces both on the socket: headers, then the whole request (body included), must
    // arrive in time; answers may then take as long as the model does.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.idleTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    clientErrorHandler: (err, socket) => {
      if (socket.destroyed) return;
      if (!socket.writable) return void socket.destroy();
      const timedOut = (err as { code?: string }).code === "ERR_HTTP_REQUEST_TIMEOUT";
      const head = timedOut ? "408 Request Timeout" : "400 Bad Request";
      const body = timedOut ? REQUEST_TIMEOUT_BODY : "";
      const type = timedOut ? "Content-Type: application/json\r\n" : "";
      // Closed once the answer is out, whether or not the client ever stops sending.
      socket.end(
        `HTTP/1.1 ${head}\r\n${type}Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        () => socket.destroy(),
      );
    },
  });
  // Node's headers timeout starts with a request's first byte: a client that connects and sends
  // nothing would hold its socket forever. Silence before the first request gets the same time.
  // (No "data" listener here: one would take the socket off Node's parser and its timeouts.)
  app.server.on("connection", (socket: Socket) => {
    socket.setTimeout(config.headersTimeoutMs, () => socket.destroy());
  });
  app.server.on("request", (request: IncomingMessage) => request.socket.setTimeout(0));
  const ownHost = requireOwnHost(ownHostNames(config.host, config.allowedHosts));
  installErrorHandlers(app, log);

  await app.register(async (api) => {
    installJsonParser(api, chatBodyLimitBytes(config.maxMessageChars, maxUploadBytes));
    api.addHook("onRequest", ownHost);
    api.addHook("onRequest", requireAllowedOrigin(config.corsOrigins));
    installCors(api, config.corsOrigins);
    api.addHook("onRequest", requireApiKey(config.apiKey));
    registerApiRoutes(api, {
      bot,
      turns: options.turns,
      log,
      maxMessageChars: config.maxMessageChars,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxUploadBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      chatHooks: await chatLimitHooks(api, {
        ratePerMinute: config.ratePerMinute,
        maxConcurrent: config.maxConcurrentPerClient,
        apiKey: config.apiKey,
      }),
    });
    registerUsageRoutes(api, options.usage);
    if (config.corsOrigins.length > 0) {
      // Preflights are answered by the CORS hook; these routes only make them reachable.
      for (const path of ["/chat", "/chat/stream", "/conversations/:id", "/usage", "/usage/export"]) {
        api.options(path, async (_request, reply) => reply.code(204).send());
      }
    }
  });

  await app.register(async (page) => {
    page.addHook("onRequest", ownHost);
    registerPageRoutes(page, () => ({
      cursor: config.cursor,
      authRequired: config.apiKey !== undefined,
      maxMessageChars: config.maxMessageChars,
      maxUploadBytes,
      maxFileBytes: bot.attachmentLimits.maxFileBytes,
      maxFiles: maxUploadBytes > 0 ? bot.attachmentLimits.maxFiles : 0,
      model: modelStatus(),
    }));
  });

  app.get("/health", async () => ({ status: "healthy" }));

  app.addHook("onListen", async () => {
    const where = app
      .addresses()
      .map((a) =>
        typeof a === "string"
          ? a
          : a.family === "IPv6"
            ? `[${a.address}]:${a.port}`
            : `${a.address}:${a.port}`,
      );
    if (config.apiKey) {
      log.info({ addresses: where }, "web API listening; requests need Authorization: Bearer <WEB_API_KEY>");
    } else {
      log.info(
        { addresses: where },
        config.host === "127.0.0.1" || config.host === "localhost" || config.host === "::1"
          ? "web API listening on this machine only (set WEB_API_KEY to accept other machines)"
          : "web API listening WITHOUT an API key on a public address; set WEB_API_KEY",
      );
    }
  });

  return app;
}

/**
 * The web as a surface: always ready while the server runs; stopping waits
 * for its turns in flight and ends the rest. The HTTP server itself is closed
 * last by the composition root (it also serves /ready and Slack's events).
 */
export function webSurface(turns: TurnTracker): Surface {
  return {
    name: "web",
    ready: async () => true,
    stop: (graceMs) => turns.drain("web", graceMs),
  };
}
