import { parse as parseQuery } from "node:querystring";
import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import { verifySlackRequest } from "@slack/bolt";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { OtherErrorCode } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";

export interface FastifyReceiverOptions {
  signingSecret: string;
  log: Logger;
  /** Route path (default "/slack/events"). */
  path?: string;
  /**
   * Longest wait for a listener's ack before answering 200 anyway (ms,
   * default 2,500): Slack retries anything slower than 3 s.
   * @see https://api.slack.com/apis/events-api#responding
   * @see https://api.slack.com/interactivity/handling#acknowledgment_response
   */
  ackTimeoutMs?: number;
  /** Largest accepted body (bytes, default 1 MiB). */
  bodyLimitBytes?: number;
  /**
   * Where the signatures seen within their validity window are remembered (the
   * store's claims, shared by replicas), so a replayed request is ignored.
   * Absent: replays are not detected.
   */
  seen?: { claim(key: string, ttlMs: number): Promise<boolean> };
}

/**
 * Slack's signed timestamp may be this far from now, either way.
 * @see https://api.slack.com/authentication/verifying-requests-from-slack
 */
const SIGNATURE_WINDOW_S = 5 * 60;

/** Answered with 401 when the signature is missing, wrong or stale; nothing runs. */
export class SlackSignatureError extends Error {
  readonly code: OtherErrorCode = "slack_signature";
}

const NOT_ACKED = Symbol("not acked");

/**
 * A Bolt receiver on an existing Fastify server: Slack's Events API, slash
 * commands and interactivity POST to one route. The raw body is verified with
 * Bolt's verifySlackRequest before anything is parsed, url_verification is
 * answered here, and everything else goes to `app.processEvent`; the HTTP
 * answer is sent as soon as the listener acks (Bolt acks events before
 * running listeners), so a long answer never delays it.
 */
export class FastifyReceiver implements Receiver {
  private app: App | undefined;
  private accepting = false;
  private readonly path: string;
  private readonly ackTimeoutMs: number;
  private readonly bodyLimitBytes: number;

  constructor(private readonly options: FastifyReceiverOptions) {
    this.path = options.path ?? "/slack/events";
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2_500;
    this.bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  }

  init(app: App): void {
    this.app = app;
  }

  /** Adds the route; call before the server listens. */
  register(http: FastifyInstance): void {
    // Encapsulated: the raw-body parser applies to this route only.
    void http.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        "*",
        { parseAs: "buffer", bodyLimit: this.bodyLimitBytes },
        (_req, body, done) => done(null, body),
      );
      scope.post(this.path, (request, reply) => this.handle(request, reply));
    });
  }

  async start(): Promise<void> {
    this.accepting = true;
  }

  async stop(): Promise<void> {
    this.accepting = false;
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const log = this.options.log;
    if (!this.accepting || !this.app) return reply.code(503).send();
    const raw = Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "";
    const isForm = (request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    if (isForm && parseQuery(raw).ssl_check === "1") return reply.code(200).send();
    let signed: { signature: string; timestampS: number };
    try {
      signed = this.verify(request, raw);
    } catch (err) {
      log.warn({ reason: err instanceof Error ? err.message : String(err) }, "rejected a Slack request");
      return reply.code(401).send();
    }
    try {
      if (!(await this.firstSeen(signed))) {
        log.warn("ignored a replayed Slack request (its signature was already seen)");
        return reply.code(200).send();
      }
    } catch (err) {
      log.error({ err }, "could not check a Slack request for replay; Slack will retry");
      return reply.code(503).send();
    }

    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, isForm);
    } catch {
      return reply.code(400).send();
    }
    if (body.type === "url_verification") return reply.send({ challenge: body.challenge });

    let settle!: (response: unknown) => void;
    const acked = new Promise<unknown>((resolve) => {
      settle = resolve;
    });
    let ackCount = 0;
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => {
        if (ackCount++ > 0) log.warn("a Slack request was acknowledged twice");
        settle(response);
      },
      ...retryFields(request),
    };
    const processing = this.app.processEvent(event).then(
      () => NOT_ACKED,
      (err: unknown) => {
        log.error({ err }, "Slack event processing failed");
        return err instanceof Error ? err : new Error(String(err));
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof NOT_ACKED>((resolve) => {
      timer = setTimeout(() => resolve(NOT_ACKED), this.ackTimeoutMs);
    });
    const outcome = await Promise.race([acked, processing, timedOut]);
    clearTimeout(timer);
    if (outcome instanceof Error) return reply.code(500).send();
    if (outcome === NOT_ACKED || outcome === undefined || outcome === "") return reply.code(200).send();
    if (typeof outcome === "string") return reply.code(200).type("text/plain; charset=utf-8").send(outcome);
    return reply.code(200).send(outcome);
  }

  /**
   * Claims the signature until the end of its validity window (a timestamp may
   * lie up to 5 minutes ahead, so that is up to 10 minutes from now); false
   * when it was claimed before: the same signed request, sent again.
   */
  private async firstSeen(signed: { signature: string; timestampS: number }): Promise<boolean> {
    if (!this.options.seen) return true;
    const ttlMs = Math.max(1_000, (signed.timestampS + SIGNATURE_WINDOW_S) * 1000 - Date.now() + 1_000);
    return this.options.seen.claim(`slack:signature:${signed.signature}`, ttlMs);
  }

  private verify(request: FastifyRequest, raw: string): { signature: string; timestampS: number } {
    const signature = request.headers["x-slack-signature"];
    const timestamp = request.headers["x-slack-request-timestamp"];
    if (typeof signature !== "string" || typeof timestamp !== "string") {
      throw new SlackSignatureError("missing x-slack-signature or x-slack-request-timestamp");
    }
    const timestampS = Number(timestamp);
    // verifySlackRequest only rejects old timestamps; one from the future is as stale.
    if (!Number.isFinite(timestampS) || Math.abs(Date.now() / 1000 - timestampS) > SIGNATURE_WINDOW_S) {
      throw new SlackSignatureError("stale or malformed x-slack-request-timestamp");
    }
    verifySlackRequest({
      signingSecret: this.options.signingSecret,
      body: raw,
      headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestampS },
    });
    return { signature, timestampS };
  }
}

/** JSON events, or a form: slash commands as fields, interactivity as a JSON `payload` field. */
function parseBody(raw: string, isForm: boolean): Record<string, unknown> {
  if (!isForm) return JSON.parse(raw) as Record<string, unknown>;
  const fields = parseQuery(raw);
  if (typeof fields.payload === "string") return JSON.parse(fields.payload) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

function retryFields(request: FastifyRequest): { retryNum?: number; retryReason?: string } {
  const num = request.headers["x-slack-retry-num"];
  const reason = request.headers["x-slack-retry-reason"];
  const out: { retryNum?: number; retryReason?: string } = {};
  if (typeof num === "string" && /^\d+$/.test(num)) out.retryNum = Number(num);
  if (typeof reason === "string") out.retryReason = reason;
  return out;
}
