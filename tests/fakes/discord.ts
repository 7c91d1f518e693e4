import { EventEmitter } from "node:events";
import { type FakeAttachment, FakeCdn, type HostOptions } from "./discord-cdn.js";
import { FakeGateway } from "./discord-gateway.js";
import { FakeDiscordHttp, type FakeLatency, type RestCall } from "./discord-http.js";
import { FakeDiscordPeople } from "./discord-people.js";
import {
  type ChannelMessageLimit,
  FakeDiscordApi,
  type FakeFailure,
  type FakeMessage,
  type InteractionCallback,
  type Wire,
} from "./discord-rest.js";
import { waitForChange } from "./discord-wait.js";
import { FakeWorld } from "./discord-world.js";
import type { FileStats } from "./files.js";
import type { LocalHttpServer } from "./http.js";

export type { FakeAttachment } from "./discord-cdn.js";
export { MESSAGE_CONTENT_INTENT } from "./discord-gateway.js";
export type { FakeLatency, RestCall } from "./discord-http.js";
export type { FakeFailure, FakeMessage, InteractionCallback } from "./discord-rest.js";
export { type FakeChannel, type FakeGuild, shardOf } from "./discord-world.js";

export interface FakeDiscordOptions {
  /** false: IDENTIFY with the MessageContent intent is refused with close code 4014. */
  messageContentAllowed?: boolean;
  heartbeatIntervalMs?: number;
  /** What GET /gateway/bot recommends as `shards` (default 1). */
  recommendedShards?: number;
  /** Enforce Discord's limit on message creates and edits per channel: 429 beyond it. Default: none. */
  messageLimit?: ChannelMessageLimit;
  /** A round trip per REST request, applied half-way (the limit counts and people see a request then). Default: none. */
  latency?: FakeLatency;
}

/**
 * A fake Discord on 127.0.0.1: the REST API under `/api/v10` (see
 * FakeDiscordApi), the gateway WebSocket at `/gateway` (FakeGateway), and a
 * CDN for attachments. People act through `say` (also replies and forwards),
 * `startForumPost`, `editByUser`, `slash` and `click`; a test reads what they
 * would see in `messages` (text and buttons) and `interactionCallbacks`.
 */
export class FakeDiscord extends FakeDiscordPeople {
  readonly world = new FakeWorld();
  readonly token = "fake-bot-token.not-a-real-one";
  readonly gateway: FakeGateway;
  protected readonly api: FakeDiscordApi;
  private readonly cdn: FakeCdn = new FakeCdn(() => this.http.port);
  private readonly web: FakeDiscordHttp;
  private readonly events = new EventEmitter();

  private constructor(options: FakeDiscordOptions) {
    super();
    this.web = new FakeDiscordHttp(
      () => this.api,
      this.cdn,
      () => this.changed(),
      options.latency,
    );
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
      options.messageLimit,
    );
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await fake.http.listen();
    return fake;
  }

  /** DISCORD_API_URL: discord.js adds `/v10/...`. */
  /** Every REST request discord.js sent, in order. */
  get calls(): RestCall[] {
    return this.web.calls;
  }

  private get http(): LocalHttpServer {
    return this.web.server;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.http.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.http.port}/gateway`;
  }

  get interactionCallbacks(): InteractionCallback[] {
    return this.api.interactions.callbacks;
  }

  /** Registered application commands: "global" or a guild id -> the list. */
  get commands(): Map<string, Wire[]> {
    return this.api.commands.lists;
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

  /** Typing indicators the bot started in a channel (POST /channels/{id}/typing), in order. */
  typingIn(channelId: string): RestCall[] {
    return this.calls.filter((c) => c.method === "POST" && c.path === `/channels/${channelId}/typing`);
  }

  setCommands(scope: "global" | string, list: Wire[]): void {
    this.api.commands.set(scope, list);
  }

  /**
   * Hosts a file on the fake CDN (answering after `delayMs`) and returns the
   * attachment object for a message, with `size` and `content_type` as
   * Discord sends them; `options` make it misbehave (see HostOptions).
   */
  attachment(
    filename: string,
    content: string | Buffer,
    contentType?: string,
    delayMs = 0,
    options: HostOptions = {},
  ): FakeAttachment {
    return this.cdn.host(filename, content, contentType, delayMs, options);
  }

  /** What the CDN served of an attachment. */
  served(attachment: FakeAttachment): FileStats {
    return this.cdn.served(attachment);
  }

  /** Resolves with the predicate's first truthy value, re-checked after every request and gateway frame. */
  waitFor<T>(
    predicate: () => T | undefined | null | false,
    what = "condition",
    timeoutMs = 15_000,
  ): Promise<T> {
    return waitForChange(this.events, predicate, `FakeDiscord: timed out waiting for ${what}`, timeoutMs);
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

  /** Waits until one of the bot's messages in the channel reads exactly `text`; resolves with it. */
  waitForBotMessage(channelId: string, text: string, timeoutMs?: number): Promise<FakeMessage> {
    return this.waitFor(
      () => this.botMessages(channelId).find((m) => m.content === text),
      `a message of the bot's reading ${JSON.stringify(text.slice(0, 60))} in ${channelId}`,
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
}
