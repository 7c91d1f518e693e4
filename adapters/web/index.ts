import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  fastify,
  LogController,
  type RawServerDefault,
} from "fastify";
import type { Bot } from "../../src/bot.js";
import type { Config } from "../../src/config.js";
import type { Logger } from "../../src/log.js";
import { registerApiRoutes } from "./api.js";
import { installCors, installErrorHandlers, installJsonParser, requireApiKey } from "./http.js";
import { registerPageRoutes } from "./page.js";

export { CONVERSATION_HEADER, storeKey } from "./api.js";
export { type OpsOptions, type ReadyCheck, registerOpsRoutes } from "./ops.js";
export { findProjectRoot, type PageConfig } from "./page.js";

/** What the web adapter needs; see createWebServer. */
export interface WebServerOptions {
  bot: Bot;
  /** The web settings plus the streaming cursor the page shows. */
  config: Config["web"] & { cursor: string };
  log: Logger;
  /** Whether a model is configured; shown by the page. Default: whether `bot.model` is set. */
  modelStatus?: () => { configured: boolean; message?: string };
  /** Interval of SSE comment lines during model silence (ms); default 15,000. */
  heartbeatMs?: number;
}

/** JSON escapes can make a message up to 6 bytes per character; leave room for the rest of the body. */
const bytesForChars = (chars: number) => Math.max(1024 * 1024, chars * 6 + 64 * 1024);

/**
 * Builds the web adapter: the chat API (POST /chat, POST /chat/stream as SSE,
 * GET/DELETE /conversations/:id), GET / (status for API clients, the chat page
 * for browsers), GET /health, and the page's assets. It does not listen: the
 * composition root adds its own routes and calls `listen`.
 */
export async function createWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const { bot, config } = options;
  const log = options.log.child({ component: "web" });
  const modelStatus =
    options.modelStatus ??
    (() =>
      bot.model
        ? { configured: true }
        : { configured: false, message: "No model is configured on this server, so it cannot answer yet." });

  // Typed with Fastify's base logger so routes other adapters add need not know pino's type.
  const app: FastifyInstance = fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: log,
    // One line per request would drown the turn logs; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
  });
  installErrorHandlers(app, log);

  await app.register(async (api) => {
    installJsonParser(api, bytesForChars(config.maxMessageChars));
    installCors(api, config.corsOrigins);
    api.addHook("onRequest", requireApiKey(config.apiKey));
    registerApiRoutes(api, {
      bot,
      log,
      maxMessageChars: config.maxMessageChars,
      heartbeatMs: options.heartbeatMs ?? 15_000,
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
