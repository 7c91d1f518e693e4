import type { AddressInfo } from "node:net";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { FastifyInstance } from "fastify";
import { createWebServer } from "../../adapters/web/index.js";
import { type Config, loadConfig } from "../../src/config/index.js";
import { type Logger, silentLogger } from "../../src/log.js";
import { makeTestBot, type TestBot, type TestBotOptions } from "../helpers/bot.js";

export interface WebHarness extends TestBot {
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
}

export interface WebHarnessOptions {
  web?: Partial<Config["web"]>;
  cursor?: string;
  heartbeatMs?: number;
  /** Default: silent. */
  log?: Logger;
  bot?: TestBotOptions;
  /** WEB_MAX_UPLOAD_MB in bytes; default the adapter's (20 MB). */
  maxUploadBytes?: number;
}

/**
 * The web settings as a bot started with no environment has them, on
 * 127.0.0.1, with per-client limits out of the way (tests send many requests
 * from one address; the limits' own tests set them).
 */
export function webConfig(overrides: Partial<Config["web"]> = {}): Config["web"] {
  return {
    ...loadConfig({ env: {} }).web,
    port: 0,
    host: "127.0.0.1",
    ratePerMinute: 1_000_000,
    maxConcurrentPerClient: 100_000,
    ...overrides,
  };
}

/** The web adapter over a real Bot (fake OpenAI server, SQLite), listening on 127.0.0.1:0. */
export async function startWeb(options: WebHarnessOptions = {}): Promise<WebHarness> {
  const testBot = await makeTestBot(options.bot);
  const app = await createWebServer({
    bot: testBot.bot,
    turns: testBot.turns,
    config: { ...webConfig(options.web), cursor: options.cursor ?? "▌" },
    log: options.log ?? silentLogger(),
    heartbeatMs: options.heartbeatMs,
    ...(options.maxUploadBytes !== undefined ? { maxUploadBytes: options.maxUploadBytes } : {}),
    usage: testBot.usage,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    ...testBot,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await testBot.close();
    },
  };
}

/** POSTs JSON (or a raw body with its own content type). */
export function post(
  base: string,
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; raw?: boolean; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: options.raw ? (body as string) : JSON.stringify(body),
    signal: options.signal,
  });
}

export interface SseResult {
  events: EventSourceMessage[];
  /** Comment lines (": connected"), in order. */
  comments: string[];
  /** The token events joined: the answer as the client rebuilds it. */
  text: string;
}

/** Reads a whole SSE response with a standard parser. */
export async function readSse(res: Response, onEvent?: (e: EventSourceMessage) => void): Promise<SseResult> {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (e) => {
      events.push(e);
      onEvent?.(e);
    },
    onComment: (c) => comments.push(c),
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
  }
  const text = events
    .filter((e) => e.event === "token")
    .map((e) => e.data)
    .join("");
  return { events, comments, text };
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
