import type { IncomingMessage, ServerResponse } from "node:http";
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
import { registerApiRoutes } from "./api.js";
import { chatBodyLimitBytes } from "./attachments.js";
import { installCors, installErrorHandlers, installJsonParser, requireApiKey } from "./http.js";
import { registerPageRoutes } from "./page.js";

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
}

/**
 * Builds the web adapter: the chat API (POST /chat, POST /chat/stream as SSE,
 * GET/DELETE /conversations/:id), GET / (status for API clients, the chat page
 * for browsers), GET /health, and the page's assets. It does not listen: the
 * composition root adds its own routes and calls `listen`.
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
  });
  installErrorHandlers(app, log);

  await app.register(async (api) => {
    installJsonParser(api, chatBodyLimitBytes(config.maxMessageChars, maxUploadBytes));
    installCors(api, config.corsOrigins);
    api.addHook("onRequest", requireApiKey(config.apiKey));
    registerApiRoutes(api, {
      bot,
      turns: options.turns,
      log,
      maxMessageChars: config.maxMessageChars,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxUploadBytes,
    });
    if (config.corsOrigins.length > 0) {
      // Preflights are answered by the CORS hook; these routes only make them reachable.
      for (const path of ["/chat", "/chat/stream", "/conversations/:id"]) {
        api.options(path, async (_request, reply) => reply.code(204).send());
      }
    }
  });

  await app.register(async (page) => {
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
