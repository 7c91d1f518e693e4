import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import type { FakeCdn } from "./discord-cdn.js";
import type { Wire } from "./discord-interactions.js";
import type { FakeDiscordApi } from "./discord-rest.js";
import { jsonOr, LocalHttpServer, readBody } from "./http.js";

/** One REST request as discord.js sent it; `path` is below `/api/v10`. */
export interface RestCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Wire;
  /** The HTTP status the fake answered. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** When the fake applied it, what people see from then on (ms since the epoch, fractional). */
  appliedAt: number;
  /** What the fake answered (a created message's payload carries its id). */
  answer?: unknown;
}

/** A round trip the fake takes per REST request: uniform in [minMs, maxMs], applied half-way. */
export interface FakeLatency {
  minMs: number;
  maxMs: number;
}

/**
 * The fake Discord's HTTP server: the REST API under `/api/v10` (answered by
 * FakeDiscordApi, every request recorded in `calls`) and the CDN under
 * `/attachments/`.
 */
export class FakeDiscordHttp {
  readonly calls: RestCall[] = [];
  readonly server: LocalHttpServer;

  constructor(
    private readonly api: () => FakeDiscordApi,
    private readonly cdn: FakeCdn,
    private readonly changed: () => void,
    private readonly latency?: FakeLatency,
  ) {
    this.server = new LocalHttpServer((req, res) => this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    if (url.pathname.startsWith("/attachments/")) {
      await this.cdn.serve(url.pathname, req, res);
      return;
    }
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, "");
    const call: RestCall = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: jsonOr(raw),
      status: 0,
      at: Date.now(),
      appliedAt: 0,
    };
    this.calls.push(call);
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      call.answer = payload;
      if (payload === undefined) res.writeHead(status, headers).end();
      else
        res
          .writeHead(status, { "content-type": "application/json", ...headers })
          .end(JSON.stringify(payload));
      this.changed();
    };
    if (!url.pathname.startsWith("/api/v10/")) {
      send(404, { message: "404: Not Found", code: 0 });
      return;
    }
    const halfMs = this.latency
      ? (this.latency.minMs + Math.random() * (this.latency.maxMs - this.latency.minMs)) / 2
      : 0;
    if (halfMs > 0) await delay(halfMs);
    const [status, payload, headers] = this.api().answer(
      method,
      path,
      call.query,
      call.body,
      req.headers.authorization,
    );
    call.appliedAt = performance.timeOrigin + performance.now();
    if (halfMs > 0) await delay(halfMs);
    send(status, payload, headers);
  }
}
