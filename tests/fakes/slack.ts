import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FileHost } from "./files.js";
import { jsonOr, LocalHttpServer, readBody } from "./http.js";
import { type FakeSlackOptions, FakeSlackWorkspace } from "./slackWorkspace.js";

export type { FakeSlackMessage, FakeSlackOptions } from "./slackWorkspace.js";

/** One Web API call as the SDK sent it. */
export interface SlackCall {
  method: string;
  // biome-ignore lint/suspicious/noExplicitAny: params are whatever the SDK sent
  params: Record<string, any>;
  token: string | undefined;
  /** When the fake received it (ms since 1970). */
  at: number;
  /** What the fake answered (`{ ok, error?, ... }`). */
  // biome-ignore lint/suspicious/noExplicitAny: Slack's answers vary by method
  response?: Record<string, any>;
}

/** A file as Slack's events and files.info describe it. */
export interface SlackFileObject {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  mode: string;
  is_external: boolean;
  url_private: string;
  url_private_download: string;
  permalink: string;
}

/** A canned failure for the next calls of one method. */
export interface FakeSlackFailure {
  /** Slack's error code in `{ ok: false, error }` (default "ratelimited" with status 429, else "internal_error"). */
  error?: string;
  /** HTTP status (default 429 when retryAfterS is set, else 200 as Slack does for API errors). */
  status?: number;
  /** Sent as Retry-After (seconds). */
  retryAfterS?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

/**
 * A method's rate limit as Slack counts it: at most `limit` calls in any
 * `perMs`, per workspace (default) or per channel; beyond, HTTP 429 with
 * Retry-After. Rejected calls do not count.
 * @see https://docs.slack.dev/apis/web-api/rate-limits
 */
export interface FakeRateLimit {
  limit: number;
  perMs: number;
  per?: "workspace" | "channel";
}

/**
 * A fake Slack Web API on 127.0.0.1: `POST /api/{method}` with the SDK's
 * form-encoded or JSON bodies, answering like Slack (`{ ok: true, ... }`, or
 * `{ ok: false, error }`, or HTTP 429 with Retry-After), from the state of
 * its workspace (FakeSlackWorkspace), so a test reads what a user would see
 * after every edit. It records every call and can fail the next ones.
 */
export class FakeSlack extends FakeSlackWorkspace {
  readonly calls: SlackCall[] = [];
  /** Calls answered 429 because of `rateLimits`. */
  rateLimited = 0;
  private readonly failures = new Map<string, FakeSlackFailure[]>();
  private readonly events = new EventEmitter();
  private readonly http = new LocalHttpServer((req, res) => this.handle(req, res));
  /**
   * The workspace's private files (`/files-pri/...`): only a request with the
   * bot token gets one; without it Slack answers 200 with its sign-in page.
   */
  readonly files = new FileHost(
    (req) => this.filesReadScope && req.headers.authorization === `Bearer ${this.botToken}`,
    (res) =>
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end("<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"),
  );
  private fileSeq = 0;
  /** false: the app was installed without files:read, so no token gets a file. */
  filesReadScope = true;
  private readonly rateLimits: Record<string, FakeRateLimit>;
  private readonly windows = new Map<string, number[]>();

  private constructor(options: FakeSlackOptions & { rateLimits?: Record<string, FakeRateLimit> }) {
    super(options);
    this.rateLimits = options.rateLimits ?? {};
    this.events.setMaxListeners(100);
  }

  /**
   * Uploads a file to the workspace and returns its file object as events
   * carry it (`url_private`, `url_private_download`, `size`, `mimetype`).
   * `generatedBytes` serves that many bytes instead of `content`; `claimedSize`
   * makes the object say another size.
   */
  upload(
    name: string,
    content: Buffer | string,
    mimetype: string,
    options: { generatedBytes?: number; claimedSize?: number; chunked?: boolean } = {},
  ): SlackFileObject {
    const id = `F0FILE${++this.fileSeq}`;
    const body = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const base = `http://127.0.0.1:${this.http.port}/files-pri/${this.teamId}-${id}`;
    for (const path of [`${base}/${name}`, `${base}/download/${name}`])
      this.files.add(decodeURIComponent(new URL(path).pathname), {
        ...(options.generatedBytes === undefined ? { body } : { generatedBytes: options.generatedBytes }),
        contentType: mimetype,
        chunked: options.chunked ?? false,
      });
    return {
      id,
      name,
      title: name,
      mimetype,
      filetype: name.split(".").pop() ?? "",
      size: options.claimedSize ?? options.generatedBytes ?? body.length,
      mode: "hosted",
      is_external: false,
      url_private: `${base}/${name}`,
      url_private_download: `${base}/download/${name}`,
      permalink: `https://test.slack.com/files/U0ALICE/${id}/${name}`,
    };
  }

  /** What the file host served of a file's download URL. */
  served(file: SlackFileObject) {
    return this.files.statsOf(decodeURIComponent(new URL(file.url_private_download).pathname));
  }

  static async start(
    options: FakeSlackOptions & { rateLimits?: Record<string, FakeRateLimit> } = {},
  ): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await fake.http.listen();
    return fake;
  }

  /** What to give as SLACK_API_URL. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.http.port}/api/`;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** Makes the next call(s) of `method` fail. */
  fail(method: string, failure: FakeSlackFailure = {}): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once `check` is true (re-checked after every call); rejects after `timeoutMs`. */
  async waitFor(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const onCall = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.events.off("call", onCall);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off("call", onCall);
        reject(
          new Error(
            `FakeSlack: timed out waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(", ")}`,
          ),
        );
      }, timeoutMs);
      this.events.on("call", onCall);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    if (path.startsWith("/files-pri/")) {
      if (!(await this.files.serve(decodeURIComponent(path), req, res))) res.writeHead(404).end();
      return;
    }
    const raw = await readBody(req);
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0] ?? "";
    const params = parseParams(raw, req.headers["content-type"]);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : (params.token as string | undefined);
    const call: SlackCall = { method, params, token, at: Date.now() };
    this.calls.push(call);
    // biome-ignore lint/suspicious/noExplicitAny: Slack's answers vary by method
    const send = (status: number, body: Record<string, any>, headers: Record<string, string> = {}) => {
      call.response = body;
      res
        .writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
        .end(JSON.stringify(body));
      this.events.emit("call", call);
    };
    const failure = this.takeFailure(method);
    if (failure) {
      const status = failure.status ?? (failure.retryAfterS !== undefined ? 429 : 200);
      const headers: Record<string, string> = {};
      if (failure.retryAfterS !== undefined) headers["retry-after"] = String(failure.retryAfterS);
      const error = failure.error ?? (status === 429 ? "ratelimited" : "internal_error");
      send(status, { ok: false, error }, headers);
      return;
    }
    const expected = method === "apps.connections.open" ? this.appToken : this.botToken;
    if (token !== expected) {
      send(200, { ok: false, error: token ? "invalid_auth" : "not_authed" });
      return;
    }
    const retryAfterS = this.overLimit(method, params);
    if (retryAfterS !== undefined) {
      this.rateLimited++;
      send(429, { ok: false, error: "ratelimited" }, { "retry-after": String(retryAfterS) });
      return;
    }
    send(200, this.answer(method, params));
  }

  /** Seconds to wait when `method` is over its limit now; else counts the call and returns undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: params are whatever the SDK sent
  private overLimit(method: string, params: Record<string, any>): number | undefined {
    const limit = this.rateLimits[method];
    if (!limit) return undefined;
    const scope = limit.per === "channel" ? String(params.channel ?? params.channel_id ?? "") : "";
    const key = `${method}:${scope}`;
    const now = Date.now();
    const calls = (this.windows.get(key) ?? []).filter((at) => at > now - limit.perMs);
    this.windows.set(key, calls);
    if (calls.length >= limit.limit)
      return Math.max(1, Math.ceil(((calls[0] as number) + limit.perMs - now) / 1000));
    calls.push(now);
    return undefined;
  }

  private takeFailure(method: string): FakeSlackFailure | undefined {
    const list = this.failures.get(method);
    const first = list?.[0];
    if (!list || !first) return undefined;
    const left = (first.times ?? 1) - 1;
    if (left <= 0) list.shift();
    else list[0] = { ...first, times: left };
    return first;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: params are whatever the SDK sent
function parseParams(raw: string, contentType: string | undefined): Record<string, any> {
  if (!raw) return {};
  if (contentType?.includes("application/json")) return JSON.parse(raw);
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    // The SDK JSON-encodes nested values (blocks, attachments) in form bodies.
    out[k] = /^[[{]/.test(v) ? jsonOr(v) : v;
  }
  return out;
}
