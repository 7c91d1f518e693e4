import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { IncomingFile } from "../../src/attachments/index.js";
import { toChatError, UnavailableError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import type { Bot, Incoming, TurnTracker } from "../../src/turn/index.js";
import { parseAttachments } from "./attachments.js";
import { errorBody, sendChatError, WebError } from "./http.js";
import { SseWriter } from "./sse.js";

/** What the API routes need from the rest of the program. */
export interface ApiDeps {
  bot: Bot;
  turns: TurnTracker;
  log: Logger;
  /** Longest accepted `message`, in UTF-16 code units. */
  maxMessageChars: number;
  /** Comment lines keep proxies from closing a stream while the model is silent (ms). */
  heartbeatMs: number;
  /** Decoded bytes of all `attachments` of one request; 0 refuses attachments. */
  maxUploadBytes: number;
  /** A stream whose reader takes nothing for this long is closed (ms). */
  idleTimeoutMs: number;
  /** Run before each chat request (the per-client limits, limits.ts). */
  chatHooks: onRequestAsyncHookHandler[];
}

/** A validated chat request. */
interface ChatRequest {
  message: string;
  /** The bare uuid the client sees. */
  conversationId: string;
  stream: boolean;
  files: IncomingFile[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The header that tells a client which conversation it is in, before any token arrives. */
export const CONVERSATION_HEADER = "x-conversation-id";

/**
 * The store key of a web conversation. Only a well-formed uuid gets through,
 * so no request can name a `slack:` or `discord:` conversation.
 */
export function storeKey(uuid: string): string {
  return `web:${uuid}`;
}

function parseConversationId(value: unknown): string {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new WebError(400, "invalid_conversation_id", "conversation_id must be a UUID like 3f1c9a2e-….");
  }
  // Case differences would otherwise split one conversation into two.
  return value.toLowerCase();
}

function parseChatBody(request: FastifyRequest, deps: ApiDeps): ChatRequest {
  const { maxMessageChars } = deps;
  const body = request.body;
  if (body === undefined) {
    if (!request.headers["content-type"]) {
      throw new WebError(
        415,
        "unsupported_media_type",
        "Send the body as JSON with Content-Type: application/json.",
      );
    }
    throw new WebError(400, "invalid_request", 'The body is empty; send {"message": "..."}.');
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new WebError(400, "invalid_request", 'The body must be a JSON object like {"message": "..."}.');
  }
  const { message, conversation_id: id, stream, attachments } = body as Record<string, unknown>;
  const files = parseAttachments(attachments, {
    maxFileBytes: deps.bot.attachmentLimits.maxFileBytes,
    maxFiles: deps.bot.attachmentLimits.maxFiles,
    maxUploadBytes: deps.maxUploadBytes,
  });
  if (message === undefined || message === null) {
    throw new WebError(400, "invalid_request", "message is required.");
  }
  if (typeof message !== "string") throw new WebError(400, "invalid_request", "message must be a string.");
  // A file alone is a question too ("what is this?" goes without saying).
  if (message.trim() === "" && files.length === 0)
    throw new WebError(400, "invalid_request", "message is empty.");
  if (message.length > maxMessageChars) {
    throw new WebError(
      413,
      "message_too_long",
      `message is ${message.length} characters; the limit is ${maxMessageChars}.`,
    );
  }
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    throw new WebError(400, "invalid_request", "stream must be true or false.");
  }
  const conversationId = id === undefined || id === null ? randomUUID() : parseConversationId(id);
  return { message, conversationId, stream: stream === true, files };
}

function incomingFor(chat: ChatRequest): Incoming {
  return {
    conversationId: storeKey(chat.conversationId),
    author: { id: "web", name: "web user" },
    text: chat.message,
    platform: "web",
    ...(chat.files.length > 0 ? { files: chat.files } : {}),
  };
}

/**
 * Aborted when the client goes away before we answered (not when we simply
 * finished), or when the tracker stops the turn (`stopped`: shutdown).
 */
function abortOnDisconnect(reply: FastifyReply, stopped: AbortSignal): AbortController {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  if (stopped.aborted) controller.abort(stopped.reason);
  else stopped.addEventListener("abort", () => controller.abort(stopped.reason), { once: true });
  return controller;
}

/** Runs a web turn in the tracker, so shutdown waits for it (and ends it with the restart note). */
async function tracked(
  deps: ApiDeps,
  chat: ChatRequest,
  work: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  let outcome: { value: unknown } | { error: unknown } = { value: undefined };
  await deps.turns.run({ conversationId: storeKey(chat.conversationId), platform: "web" }, async (signal) => {
    // Failures go to Fastify's error handler (a 500 with the API's error shape), not the tracker's log.
    outcome = await work(signal).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  });
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}

async function answerWhole(deps: ApiDeps, chat: ChatRequest, reply: FastifyReply, stopped: AbortSignal) {
  const controller = abortOnDisconnect(reply, stopped);
  reply.header(CONVERSATION_HEADER, chat.conversationId);
  let text = "";
  const notices: string[] = [];
  try {
    for await (const item of deps.bot.reply(incomingFor(chat), controller.signal)) {
      if (typeof item === "string") text += item;
      else if (item.type === "notice") notices.push(item.text);
    }
  } catch (err) {
    return sendChatError(reply, toChatError(err));
  }
  return reply.send({
    response: text,
    conversation_id: chat.conversationId,
    ...(notices.length > 0 ? { notices } : {}),
  });
}

async function answerStreaming(
  deps: ApiDeps,
  chat: ChatRequest,
  reply: FastifyReply,
  stopped: AbortSignal,
): Promise<unknown> {
  if (deps.bot.isDraining) {
    // Shutting down: a plain 503 before any stream opens, so a load balancer can retry elsewhere.
    const refused = new UnavailableError();
    return reply.code(503).header("retry-after", "1").send(errorBody(refused.code, refused.userMessage));
  }
  const controller = abortOnDisconnect(reply, stopped);
  let sse: SseWriter | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Opened once the turn may call the model, so a turn refused before (too busy) gets a plain 503.
  const open = (): SseWriter => {
    if (sse) return sse;
    // Headers set by hooks (CORS) live on the Fastify reply; a hijacked reply must copy them itself.
    const headers: Record<string, string | number | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) headers[name] = value;
    headers[CONVERSATION_HEADER] = chat.conversationId;
    reply.hijack();
    sse = new SseWriter(reply.raw, deps.idleTimeoutMs);
    sse.open(headers);
    heartbeat = setInterval(() => sse?.ping(), deps.heartbeatMs);
    heartbeat.unref();
    return sse;
  };
  try {
    for await (const item of deps.bot.reply(incomingFor(chat), controller.signal, { onStart: open })) {
      if (open().isClosed) break;
      if (typeof item === "string") await open().send("token", item);
      else if (item.type === "notice") await open().send("notice", item.text);
    }
    if (!open().isClosed) await open().send("done", JSON.stringify({ conversation_id: chat.conversationId }));
  } catch (err) {
    const chatError = toChatError(err);
    if (!sse) return sendChatError(reply.header(CONVERSATION_HEADER, chat.conversationId), chatError);
    if (!sse.isClosed)
      await sse.send("error", JSON.stringify(errorBody(chatError.code, chatError.userMessage)));
  } finally {
    clearInterval(heartbeat);
    sse?.end();
  }
}

/** POST /chat, POST /chat/stream, GET and DELETE /conversations/:id. */
export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/chat", { onRequest: deps.chatHooks }, async (request, reply) => {
    const chat = parseChatBody(request, deps);
    return tracked(deps, chat, (stopped) =>
      chat.stream ? answerStreaming(deps, chat, reply, stopped) : answerWhole(deps, chat, reply, stopped),
    );
  });

  app.post("/chat/stream", { onRequest: deps.chatHooks }, async (request, reply) => {
    const chat = parseChatBody(request, deps);
    return tracked(deps, chat, (stopped) => answerStreaming(deps, chat, reply, stopped));
  });

  app.get<{ Params: { id: string } }>("/conversations/:id", async (request, reply) => {
    const uuid = parseConversationId(request.params.id);
    const key = storeKey(uuid);
    if (!(await deps.bot.exists(key))) {
      return reply.code(404).send(errorBody("not_found", "No conversation with this id."));
    }
    const history = await deps.bot.history(key);
    return {
      conversation_id: uuid,
      messages: history.map((m) => ({
        role: m.role,
        content: m.text,
        ...(m.incomplete ? { incomplete: true } : {}),
        ...(m.attachments?.length
          ? { attachments: m.attachments.map((a) => ({ name: a.name, content_type: a.mediaType })) }
          : {}),
      })),
    };
  });

  app.delete<{ Params: { id: string } }>("/conversations/:id", async (request) => {
    const uuid = parseConversationId(request.params.id);
    await deps.bot.reset(storeKey(uuid));
    return { status: "deleted" };
  });
}
