import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FakeGateway } from "./discord-gateway.js";
import {
  FakeDiscordApi,
  type FakeFailure,
  type FakeMessage,
  type InteractionCallback,
  type Wire,
} from "./discord-rest.js";
import { type FakeChannel, type FakeUser, FakeWorld, messagePayload, snowflake } from "./discord-world.js";
import { FileHost } from "./files.js";
import { jsonOr, LocalHttpServer, readBody } from "./http.js";

export { MESSAGE_CONTENT_INTENT } from "./discord-gateway.js";
export type { FakeFailure, FakeMessage, InteractionCallback } from "./discord-rest.js";
export { type FakeChannel, type FakeGuild, type FakeUser, shardOf } from "./discord-world.js";

/** One REST request as discord.js sent it; `path` is below `/api/v10`. */
export interface RestCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Wire;
  /** The HTTP status the fake answered. */
  status: number;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

export interface FakeDiscordOptions {
  /** false: IDENTIFY with the MessageContent intent is refused with close code 4014. */
  messageContentAllowed?: boolean;
  heartbeatIntervalMs?: number;
  /** What GET /gateway/bot recommends as `shards` (default 1). */
  recommendedShards?: number;
}

/**
 * A fake Discord on 127.0.0.1: the REST API under `/api/v10` (see
 * FakeDiscordApi), the gateway WebSocket at `/gateway` (FakeGateway), and a
 * CDN for attachments. People act through `say`, `editByUser` and `slash`;
 * a test reads what they would see in `messages` and `interactionCallbacks`.
 */
export class FakeDiscord {
  readonly world = new FakeWorld();
  readonly token = "fake-bot-token.not-a-real-one";
  readonly calls: RestCall[] = [];
  readonly gateway: FakeGateway;
  private readonly api: FakeDiscordApi;
  /** The CDN: what it served of each attachment (`attachments/{id}/{filename}`). */
  readonly cdn = new FileHost();
  private readonly events = new EventEmitter();
  private readonly http = new LocalHttpServer((req, res) => this.handle(req, res));

  private constructor(options: FakeDiscordOptions) {
    this.events.setMaxListeners(100);
    this.gateway = new FakeGateway(
      this.http.server,
      {
        token: this.token,
        messageContentAllowed: options.messageContentAllowed ?? true,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
        gatewayUrl: () => this.gatewayUrl,
        ready: () => this.world.readyPayload(),
        guilds: () => this.world.guildPayloads(),
      },
      () => this.changed(),
    );
    this.api = new FakeDiscordApi(
      this.world,
      this.token,
      () => this.gatewayUrl,
      (t, d) => {
        if (this.gateway.canDispatch(t, d)) this.gateway.dispatch(t, d);
      },
      options.recommendedShards ?? 1,
    );
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await fake.http.listen();
    return fake;
  }

  /** DISCORD_API_URL: discord.js adds `/v10/...`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.http.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.http.port}/gateway`;
  }

  get messages(): Map<string, FakeMessage> {
    return this.api.messages;
  }

  get interactionCallbacks(): InteractionCallback[] {
    return this.api.interactionCallbacks;
  }

  /** Registered application commands: "global" or a guild id -> the list. */
  get commands(): Map<string, Wire[]> {
    return this.api.commands;
  }

  /** The bot's messages in a channel, oldest first. */
  botMessages(channelId: string): FakeMessage[] {
    return [...this.messages.values()].filter(
      (m) => m.channelId === channelId && m.authorId === this.world.botUser.id,
    );
  }

  /** Message create and edit requests (what "every send" means). */
  get sends(): RestCall[] {
    return this.calls.filter(
      (c) =>
        (c.method === "POST" && /^\/channels\/\d+\/messages$/.test(c.path)) ||
        (c.method === "PATCH" && /^\/channels\/\d+\/messages\/\d+$/.test(c.path)),
    );
  }

  callsTo(method: string, path: RegExp): RestCall[] {
    return this.calls.filter((c) => c.method === method && path.test(c.path));
  }

  /** Answers the next matching requests with an error instead. */
  failNext(failure: FakeFailure): void {
    this.api.failures.push({ times: 1, ...failure });
  }

  /** Answers the next matching request with 429 and Retry-After, as Discord's per-route limit does. */
  rateLimitNext(method: string, path: RegExp, retryAfterS: number): void {
    this.failNext({ method, path, status: 429, retryAfterS });
  }

  /** The bot lacks Send Messages in this channel (Discord answers 50013). */
  denySendIn(channelId: string): void {
    this.api.noSend.add(channelId);
  }

  setCommands(scope: "global" | string, list: Wire[]): void {
    this.api.setCommands(scope, list);
  }

  /**
   * Hosts a file on the fake CDN (answering after `delayMs`) and returns the
   * attachment object for a message, with `size` and `content_type` as
   * Discord sends them. `generatedBytes` streams that many bytes instead of
   * `content`; `claimedSize` makes the object say another size than the file has;
   * `chunked` sends it without a Content-Length.
   */
  attachment(
    filename: string,
    content: string | Buffer,
    contentType?: string,
    delayMs = 0,
    options: { generatedBytes?: number; claimedSize?: number; chunked?: boolean } = {},
  ): FakeAttachment {
    const id = snowflake();
    const body = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    this.cdn.add(`${id}/${filename}`, {
      ...(options.generatedBytes === undefined ? { body } : { generatedBytes: options.generatedBytes }),
      contentType: contentType ?? "application/octet-stream",
      delayMs,
      chunked: options.chunked ?? false,
    });
    const url = `http://127.0.0.1:${this.http.port}/attachments/${id}/${filename}`;
    return {
      id,
      filename,
      size: options.claimedSize ?? options.generatedBytes ?? body.length,
      url,
      proxy_url: url,
      ...(contentType && { content_type: contentType }),
    };
  }

  /** What the CDN served of an attachment. */
  served(attachment: FakeAttachment) {
    return this.cdn.statsOf(`${attachment.id}/${attachment.filename}`);
  }

  /**
   * A person writes in a channel (see messagePayload for mentions); `replyTo`
   * makes it a reply. Returns the message id.
   */
  say(options: {
    channel: FakeChannel;
    content: string;
    author?: FakeUser;
    replyTo?: string;
    attachments?: FakeAttachment[];
    type?: number;
  }): string {
    const { channel } = options;
    const author = options.author ?? this.world.alice;
    const replied = options.replyTo ? this.messages.get(options.replyTo) : undefined;
    const id = snowflake();
    const payload = messagePayload({
      id,
      channel,
      author,
      content: options.content,
      world: this.world,
      attachments: options.attachments,
      type: options.type,
      replied,
    });
    this.api.store({
      id,
      channelId: channel.id,
      authorId: author.id,
      content: options.content,
      replyTo: replied?.id,
      payload,
    });
    this.gateway.dispatch("MESSAGE_CREATE", { ...payload, channel_type: channel.type });
    return id;
  }

  /** A person edits their message (MESSAGE_UPDATE). */
  editByUser(messageId: string, content: string): void {
    const m = this.messages.get(messageId);
    if (!m) throw new Error(`no message ${messageId}`);
    m.content = content;
    m.versions.push(content);
    m.payload = { ...m.payload, content, edited_timestamp: new Date().toISOString() };
    this.gateway.dispatch("MESSAGE_UPDATE", m.payload);
  }

  /** A person runs a slash command; returns the interaction id. */
  slash(options: { channel: FakeChannel; name?: string; user?: FakeUser }): string {
    const { channel } = options;
    const user = options.user ?? this.world.alice;
    const id = snowflake();
    const token = this.api.openInteraction(id, channel);
    this.gateway.dispatch(
      "INTERACTION_CREATE",
      this.world.interactionPayload({ id, token, channel, user, name: options.name ?? "reset" }),
    );
    return id;
  }

  /** Resolves with the predicate's first truthy value, re-checked after every request and gateway frame. */
  waitFor<T>(
    predicate: () => T | undefined | null | false,
    what = "condition",
    timeoutMs = 15_000,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = predicate();
        if (!value) return;
        cleanup();
        resolve(value);
      };
      const timer = setInterval(check, 25);
      const timeout = setTimeout(() => {
        cleanup();
        reject(new Error(`FakeDiscord: timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearInterval(timer);
        clearTimeout(timeout);
        this.events.off("change", check);
      };
      this.events.on("change", check);
      check();
    });
  }

  /** Waits until the bot's latest message in the channel reads exactly `text` (the final edit). */
  waitForBotText(channelId: string, text: string, timeoutMs?: number): Promise<FakeMessage[]> {
    return this.waitFor(
      () => {
        const mine = this.botMessages(channelId);
        return mine.at(-1)?.content === text ? mine : undefined;
      },
      `the bot to write ${JSON.stringify(text.slice(0, 60))} in ${channelId}`,
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await this.http.close();
  }

  private changed(): void {
    this.events.emit("change");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    if (url.pathname.startsWith("/attachments/")) {
      const path = decodeURIComponent(url.pathname.slice("/attachments/".length));
      if (!(await this.cdn.serve(path, req, res))) res.writeHead(404).end();
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
    };
    this.calls.push(call);
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
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
    const [status, payload, headers] = this.api.answer(method, path, call.body, req.headers.authorization);
    send(status, payload, headers);
  }
}
