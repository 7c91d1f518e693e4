import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { jsonOr, LocalHttpServer, readBody } from "./http.js";

/** What a fake model server answers to one request. */
export interface FakeReply {
  /** The answer as deltas, sent one SSE event each. */
  chunks?: string[];
  /** The answer as one text; split into small deltas when `chunks` is absent. */
  text?: string;
  /** Pause between deltas (ms). */
  chunkDelayMs?: number;
  /** Pause before the first byte of the answer (ms). */
  firstDelayMs?: number;
  /** Answer with this HTTP status and `errorBody` instead of a stream. */
  status?: number;
  errorBody?: unknown;
  /** Sent as Retry-After (seconds) with an error status. */
  retryAfterS?: number;
  /** Destroy the connection after this many deltas. */
  cutAfterChunks?: number;
  /** Stop sending (keep the connection open) after this many deltas. */
  stallAfterChunks?: number;
  /** Called as each delta is written (benchmarks time what the model produced). */
  onDelta?: (index: number, atMs: number) => void;
  /** Called when the client closes the connection before the answer ended. */
  onClientClose?: (atMs: number) => void;
  /**
   * What the provider reports the request used. Default: input counted from
   * the request (FakeUsage), output one token per delta sent, nothing cached.
   * false: no usage at all, as some OpenAI-compatible servers answer.
   */
  usage?: false | Partial<FakeUsage>;
  /**
   * Tool calls the model makes after its text, in the provider's streaming
   * shape (OpenAI `tool_calls` deltas, Anthropic `tool_use` blocks with
   * `input_json_delta`), their arguments streamed in pieces; the answer then
   * ends with the provider's tool stop reason.
   */
  toolCalls?: FakeToolCall[];
}

/** One tool call a fake model makes. */
export interface FakeToolCall {
  name: string;
  args: Record<string, unknown>;
  /** Default: the provider's shape (`call_…`, `toolu_…`), numbered. */
  id?: string;
}

/** A tool call's arguments as JSON, in pieces of up to 7 characters (as models stream them). */
export function argPieces(args: Record<string, unknown>): string[] {
  const json = JSON.stringify(args);
  const out: string[] = [];
  for (let i = 0; i < json.length; i += 7) out.push(json.slice(i, i + 7));
  return out;
}

/** Tokens as a fake provider reports them, in Anthropic's split (OpenAI's prompt_tokens is the sum of the three). */
export interface FakeUsage {
  /** Uncached input tokens. */
  inputTokens: number;
  /** Input read from the prompt cache. */
  cachedInputTokens: number;
  /** Input written to the prompt cache (Anthropic). */
  cacheWriteTokens: number;
  outputTokens: number;
}

/** The fields of a request body the fakes read; the rest is whatever the SDK sent. */
export interface FakeRequestBody {
  model?: string;
  system?: unknown;
  messages?: Array<{ role: string; content: unknown }>;
  stream_options?: { include_usage?: boolean };
}

/** A stand-in tokenizer: 4 tokens per message plus one per 4 characters of its text. */
export function fakeInputTokens(body: FakeRequestBody | undefined): number {
  const messages: Array<{ content: unknown }> = body?.messages ?? [];
  const text = (c: unknown): string =>
    typeof c === "string"
      ? c
      : Array.isArray(c)
        ? c.map((p: { text?: string }) => p.text ?? "").join("")
        : "";
  const system = body?.system === undefined ? [] : [{ content: body.system }];
  return [...system, ...messages].reduce((n, m) => n + 4 + Math.ceil(text(m.content).length / 4), 0);
}

export interface RecordedRequest {
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent
  body: any;
  headers: IncomingMessage["headers"];
  /** Deltas of the answer written to the client so far. */
  deltasSent: number;
  /** The client closed the connection before the answer ended (a stop). */
  closedByClient: boolean;
  /** When it did (ms since the epoch). */
  closedAt?: number;
}

/** Splits text into deltas of 1-6 characters, like a tokenizer would, deterministically. */
export function toDeltas(text: string): string[] {
  const out: string[] = [];
  const chars = Array.from(text);
  let i = 0;
  let size = 1;
  while (i < chars.length) {
    out.push(chars.slice(i, i + size).join(""));
    i += size;
    size = (size % 6) + 1;
  }
  return out;
}

export type Responder = (body: any, request: RecordedRequest) => FakeReply;

/**
 * A real HTTP server on 127.0.0.1 that records requests and answers each with
 * the FakeReply the responder picks; subclasses encode the provider's SSE.
 */
export abstract class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  /** The usage each finished answer reported, in order (none for a server without usage). */
  readonly usageReported: FakeUsage[] = [];
  /** False: like an OpenAI-compatible server that never reports usage. */
  sendsUsage = true;
  /** Requests whose client closed the connection before the answer ended. */
  clientAborts = 0;
  private responder: Responder;
  private readonly queue: FakeReply[] = [];
  private readonly http = new LocalHttpServer((req, res) => this.handle(req, res));

  protected constructor(defaultResponder: Responder) {
    this.responder = defaultResponder;
  }

  protected listen(): Promise<void> {
    return this.http.listen();
  }

  protected get port(): number {
    return this.http.port;
  }

  /** Sets how every later request is answered. */
  respond(responder: Responder): void {
    this.responder = responder;
  }

  /** Answers the next requests with these replies, in order, then falls back to the responder. */
  enqueue(...replies: FakeReply[]): void {
    this.queue.push(...replies);
  }

  /** The last request's messages as the SDK sent them. */
  get lastBody(): any {
    return this.requests.at(-1)?.body;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  protected abstract path: string;
  /** `usage`: what this answer reports (its output is a guess until writeEnd), or undefined for none. */
  protected abstract writeStart(
    res: ServerResponse,
    body: FakeRequestBody,
    usage: FakeUsage | undefined,
  ): void;
  protected abstract writeDelta(res: ServerResponse, text: string): void;
  /** The tool calls after the text (numbered from `first`, for ids). */
  protected abstract writeToolCalls(res: ServerResponse, calls: FakeToolCall[], first: number): void;
  protected abstract writeEnd(
    res: ServerResponse,
    usage: FakeUsage | undefined,
    body: FakeRequestBody,
    toolStop: boolean,
  ): void;
  /** Tool calls numbered across requests, so ids are unique in a conversation. */
  private toolCallsMade = 0;
  protected abstract errorBody(status: number): unknown;
  /** A request the provider refuses as invalid (400): the reason, or undefined when it is fine. */
  protected invalid(_body: unknown): { status: number; body: unknown } | undefined {
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = (jsonOr(raw) ?? {}) as FakeRequestBody;
    const recorded: RecordedRequest = {
      path: req.url ?? "",
      body,
      headers: req.headers,
      deltasSent: 0,
      closedByClient: false,
    };
    this.requests.push(recorded);
    if (!req.url?.endsWith(this.path)) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify(this.errorBody(404)));
      return;
    }
    const refused = this.invalid(body);
    if (refused) {
      res.writeHead(refused.status, { "content-type": "application/json" }).end(JSON.stringify(refused.body));
      return;
    }
    const reply = this.queue.shift() ?? this.responder(body, recorded);
    let closed = false;
    let ended = false;
    res.on("close", () => {
      closed = true;
      if (ended) return;
      this.clientAborts++;
      recorded.closedByClient = true;
      recorded.closedAt = Date.now();
      reply.onClientClose?.(performance.now());
    });
    if (reply.firstDelayMs) await delay(reply.firstDelayMs);
    if (reply.status && reply.status >= 400) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (reply.retryAfterS !== undefined) headers["retry-after"] = String(reply.retryAfterS);
      ended = true;
      res
        .writeHead(reply.status, headers)
        .end(JSON.stringify(reply.errorBody ?? this.errorBody(reply.status)));
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const deltas = reply.chunks ?? toDeltas(reply.text ?? "");
    const usage = this.usageOf(reply, body, deltas.length);
    this.writeStart(res, body, usage);
    for (let i = 0; i < deltas.length; i++) {
      if (closed) return;
      if (reply.cutAfterChunks !== undefined && i >= reply.cutAfterChunks) {
        ended = true;
        // Let the deltas already written reach the client before the cut.
        await delay(20);
        res.socket?.destroy();
        return;
      }
      if (reply.stallAfterChunks !== undefined && i >= reply.stallAfterChunks) return;
      reply.onDelta?.(i, performance.now());
      this.writeDelta(res, deltas[i]!);
      recorded.deltasSent++;
      if (reply.chunkDelayMs) await delay(reply.chunkDelayMs);
    }
    if (closed) return;
    if (reply.stallAfterChunks !== undefined && reply.stallAfterChunks >= deltas.length) return;
    ended = true;
    const calls = reply.toolCalls ?? [];
    if (calls.length > 0) {
      this.writeToolCalls(res, calls, this.toolCallsMade);
      this.toolCallsMade += calls.length;
    }
    this.writeEnd(res, usage, body, calls.length > 0);
    if (usage && this.reportsUsage(body)) this.usageReported.push(usage);
    res.end();
  }

  /** Whether this request gets usage at all (OpenAI: only when it asked with stream_options). */
  protected reportsUsage(_body: FakeRequestBody): boolean {
    return true;
  }

  private usageOf(reply: FakeReply, body: FakeRequestBody, deltas: number): FakeUsage | undefined {
    if (!this.sendsUsage || reply.usage === false) return undefined;
    const cachedInputTokens = reply.usage?.cachedInputTokens ?? 0;
    const cacheWriteTokens = reply.usage?.cacheWriteTokens ?? 0;
    return {
      inputTokens:
        reply.usage?.inputTokens ?? Math.max(0, fakeInputTokens(body) - cachedInputTokens - cacheWriteTokens),
      cachedInputTokens,
      cacheWriteTokens,
      outputTokens: reply.usage?.outputTokens ?? deltas,
    };
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The text of the last user message in an OpenAI- or Anthropic-shaped request. */
export function lastUserText(body: any): string {
  const messages: Array<{ role: string; content: unknown }> = body?.messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === "user");
  if (!last) return "";
  if (typeof last.content === "string") return last.content;
  if (Array.isArray(last.content)) return last.content.map((c: { text?: string }) => c.text ?? "").join("");
  return "";
}
