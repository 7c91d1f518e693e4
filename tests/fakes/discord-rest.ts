import {
  buttonLabels,
  componentsProblem,
  contentProblem,
  invalidForm,
  rateLimited,
} from "./discord-checks.js";
import { FakeCommands } from "./discord-commands.js";
import { ChannelLimiter, type ChannelMessageLimit, channelHistory } from "./discord-history.js";
import { FakeInteractions, type RestAnswer, type Wire } from "./discord-interactions.js";
import { type FakeChannel, type FakeWorld, messagePayload, snowflake } from "./discord-world.js";

export type { ChannelMessageLimit } from "./discord-history.js";
export type { InteractionCallback, RestAnswer, Wire } from "./discord-interactions.js";

/** A canned failure for the next matching requests. */
export interface FakeFailure {
  method?: string;
  path: RegExp;
  status: number;
  body?: unknown;
  /** With 429: seconds, sent as Retry-After and `retry_after`. */
  retryAfterS?: number;
  /** How many requests fail (default 1). */
  times?: number;
}

/** What a message shows at one moment: its text and the labels of its buttons, in order. */
export interface MessageState {
  content: string;
  buttons: string[];
}

/** A message as the fake guild holds it: what people see, and what it was before each edit. */
export interface FakeMessage {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  /** Every content it had, oldest first (the create, then each edit). */
  versions: string[];
  /** Its message components now (action rows of buttons), as the bot sent them. */
  components: Wire[];
  /** Every state it had, oldest first: the create, then each edit that changed something. */
  states: MessageState[];
  /** The message it replies to. */
  replyTo: string | undefined;
  payload: Record<string, unknown>;
}

type Handler = (match: RegExpMatchArray, body: Wire, query: Record<string, string>) => RestAnswer;

/**
 * The state and routes of the fake Discord REST API (paths below `/api/v10`),
 * with no HTTP: messages (with components, and their history), typing,
 * interaction callbacks and followups (FakeInteractions), application
 * commands, gateway discovery. It answers like Discord, errors included
 * (codes 10003, 10008, 50005, 50006, 50013, 50035, 10062, 40060, 10015), and,
 * with a `messageLimit`, 429 for a channel's messages beyond it.
 */
export class FakeDiscordApi {
  readonly messages = new Map<string, FakeMessage>();
  readonly interactions: FakeInteractions;
  readonly commands: FakeCommands;
  readonly noSend = new Set<string>();
  readonly failures: FakeFailure[] = [];
  private readonly limiter: ChannelLimiter;
  private readonly routes: Array<[string, RegExp, Handler]>;

  constructor(
    private readonly world: FakeWorld,
    private readonly token: string,
    private readonly gatewayUrl: () => string,
    /** Sends a gateway event if a client is connected (Discord echoes a bot's own messages). */
    private readonly dispatch: (t: string, d: unknown) => void,
    /** GET /gateway/bot's `shards`: how many shards Discord recommends. */
    private readonly recommendedShards = 1,
    messageLimit?: ChannelMessageLimit,
  ) {
    this.commands = new FakeCommands(world.applicationId);
    this.limiter = new ChannelLimiter(messageLimit);
    this.interactions = new FakeInteractions({
      updateMessage: (channelId, messageId, data) => this.editMessage(channelId, messageId, data),
      botMessage: (channel, content, flags) => ({ ...this.botPayload(snowflake(), channel, content), flags }),
    });
    const gateway: Handler = () => [
      200,
      {
        url: this.gatewayUrl(),
        shards: this.recommendedShards,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
      },
    ];
    this.routes = [
      ["GET", /^\/gateway(\/bot)?$/, gateway],
      ["GET", /^\/users\/@me$/, () => [200, world.botUser]],
      ["POST", /^\/users\/@me\/channels$/, (_m, b) => this.openDm(b)],
      ["GET", /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/, (m) => this.commands.get(m[1]!, m[2])],
      [
        "PUT",
        /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/,
        (m, b) => this.commands.put(m[1]!, m[2], b),
      ],
      ["GET", /^\/channels\/(\d+)$/, (m) => this.getChannel(m[1]!)],
      ["POST", /^\/channels\/(\d+)\/typing$/, (m) => this.typing(m[1]!)],
      [
        "GET",
        /^\/channels\/(\d+)\/messages$/,
        (m, _b, q) =>
          this.world.channels.has(m[1]!)
            ? channelHistory(this.messages.values(), m[1]!, q)
            : [404, { message: "Unknown Channel", code: 10003 }],
      ],
      ["GET", /^\/channels\/(\d+)\/messages\/(\d+)$/, (m) => this.getMessage(m[1]!, m[2]!)],
      [
        "POST",
        /^\/channels\/(\d+)\/messages$/,
        (m, b) => this.limiter.limit(m[1]!, () => this.createMessage(m[1]!, b)),
      ],
      [
        "PATCH",
        /^\/channels\/(\d+)\/messages\/(\d+)$/,
        (m, b) => this.limiter.limit(m[1]!, () => this.editMessage(m[1]!, m[2]!, b)),
      ],
      [
        "POST",
        /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
        (m, b) => this.interactions.callback(m[1]!, m[2]!, b),
      ],
      [
        "PATCH",
        /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/,
        (m, b) => this.interactions.editOriginal(m[2]!, b),
      ],
      ["POST", /^\/webhooks\/(\d+)\/([^/]+)$/, (m, b) => this.interactions.followup(m[2]!, b)],
    ];
  }

  /** The answer to one request: a canned failure, 401 without the bot token, or the route's. */
  answer(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    authorization: string | undefined,
  ): RestAnswer {
    const failure = this.failures.find((f) => (!f.method || f.method === method) && f.path.test(path));
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      if (failure.status !== 429)
        return [failure.status, failure.body ?? { message: "Fake failure", code: 0 }];
      return rateLimited(failure.retryAfterS ?? 1, failure.body);
    }
    // Interaction callbacks and webhooks authenticate with their token in the path.
    const open = /^\/(interactions|webhooks)\//.test(path);
    if (!open && authorization !== `Bot ${this.token}`)
      return [401, { message: "401: Unauthorized", code: 0 }];
    return this.route(method, path, query, body);
  }

  private route(method: string, path: string, query: Record<string, string>, body: unknown): RestAnswer {
    for (const [routeMethod, pattern, handler] of this.routes) {
      const match = method === routeMethod ? path.match(pattern) : null;
      if (match) return handler(match, body, query);
    }
    return [404, { message: "404: Not Found", code: 0 }];
  }

  /** Keeps a message (a person's, or the bot's) so replies, edits and history can find it. */
  store(
    message: Omit<FakeMessage, "versions" | "states" | "components"> & { components?: Wire[] },
  ): FakeMessage {
    const components = message.components ?? [];
    const m: FakeMessage = {
      ...message,
      components,
      versions: [message.content],
      states: [{ content: message.content, buttons: buttonLabels(components) }],
    };
    this.messages.set(m.id, m);
    return m;
  }

  private getMessage(channelId: string, messageId: string): RestAnswer {
    const message = this.messages.get(messageId);
    if (!message || message.channelId !== channelId)
      return [404, { message: "Unknown Message", code: 10008 }];
    return [200, message.payload];
  }

  /**
   * POST /users/@me/channels: the bot's DM channel with a user (Create DM).
   * @see https://discord.com/developers/docs/resources/user#create-dm
   */
  private openDm(body: Wire): RestAnswer {
    const dm = [...this.world.channels.values()].find((c) => c.recipient?.id === body?.recipient_id);
    if (!dm) return [400, invalidForm("recipient_id", "BASE_TYPE_REQUIRED", "Unknown user")];
    return [200, this.world.channelPayload(dm)];
  }

  private getChannel(channelId: string): RestAnswer {
    const channel = this.world.channels.get(channelId);
    return channel
      ? [200, this.world.channelPayload(channel)]
      : [404, { message: "Unknown Channel", code: 10003 }];
  }

  private typing(channelId: string): RestAnswer {
    if (!this.world.channels.has(channelId)) return [404, { message: "Unknown Channel", code: 10003 }];
    if (this.noSend.has(channelId)) return [403, { message: "Missing Permissions", code: 50013 }];
    return [204];
  }

  private createMessage(channelId: string, body: Wire): RestAnswer {
    const channel = this.world.channels.get(channelId);
    if (!channel) return [404, { message: "Unknown Channel", code: 10003 }];
    if (this.noSend.has(channelId)) return [403, { message: "Missing Permissions", code: 50013 }];
    const problem =
      contentProblem(body?.content) ??
      (body?.components !== undefined ? componentsProblem(body.components) : undefined);
    if (problem) return problem;
    const ref = body?.message_reference;
    const replied = ref?.message_id ? this.messages.get(ref.message_id) : undefined;
    if (
      ref?.message_id &&
      (!replied || replied.channelId !== channelId) &&
      ref.fail_if_not_exists !== false
    ) {
      return [400, invalidForm("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message")];
    }
    const id = snowflake();
    const components: Wire[] = body.components ?? [];
    const payload = this.botPayload(id, channel, body.content, replied, components);
    this.store({
      id,
      channelId,
      authorId: this.world.botUser.id,
      content: body.content,
      components,
      replyTo: replied?.id,
      payload,
    });
    this.dispatch("MESSAGE_CREATE", { ...payload, channel_type: channel.type });
    return [200, payload];
  }

  private editMessage(channelId: string, messageId: string, body: Wire): RestAnswer {
    const message = this.messages.get(messageId);
    if (!message || message.channelId !== channelId)
      return [404, { message: "Unknown Message", code: 10008 }];
    if (message.authorId !== this.world.botUser.id) {
      return [403, { message: "Cannot edit a message authored by another user", code: 50005 }];
    }
    // Fields an edit leaves out stay as they are.
    const problem =
      (body?.content !== undefined ? contentProblem(body.content) : undefined) ??
      (body?.components !== undefined ? componentsProblem(body.components) : undefined);
    if (problem) return problem;
    if (body?.content !== undefined) {
      message.content = body.content;
      message.versions.push(body.content);
    }
    if (body?.components !== undefined) message.components = body.components;
    const state = { content: message.content, buttons: buttonLabels(message.components) };
    const previous = message.states.at(-1);
    if (previous?.content !== state.content || previous.buttons.join("\n") !== state.buttons.join("\n"))
      message.states.push(state);
    const channel = this.world.channels.get(channelId)!;
    const replied = message.replyTo ? this.messages.get(message.replyTo) : undefined;
    message.payload = {
      ...this.botPayload(messageId, channel, message.content, replied, message.components),
      edited_timestamp: new Date().toISOString(),
    };
    this.dispatch("MESSAGE_UPDATE", message.payload);
    return [200, message.payload];
  }

  private botPayload(
    id: string,
    channel: FakeChannel,
    content: string,
    replied?: FakeMessage,
    components?: Wire[],
  ) {
    return messagePayload({
      id,
      channel,
      author: this.world.botUser,
      content,
      world: this.world,
      withMember: false,
      replied,
      components,
    });
  }
}
