import { type FakeChannel, type FakeWorld, messagePayload, snowflake } from "./discord-world.js";

/** JSON as it goes over the wire: whatever discord.js sent or Discord answers. */
// biome-ignore lint/suspicious/noExplicitAny: wire JSON is untyped on purpose
export type Wire = any;

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

/** A message as the fake guild holds it: what people see, and what it was before each edit. */
export interface FakeMessage {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  /** Every content it had, oldest first (the create, then each edit). */
  versions: string[];
  /** The message it replies to. */
  replyTo: string | undefined;
  payload: Record<string, unknown>;
}

export interface InteractionCallback {
  interactionId: string;
  body: Wire;
  status: number;
}

/** [HTTP status, JSON body or nothing, extra headers]. */
export type RestAnswer = [number, unknown?, Record<string, string>?];

/** How long Discord accepts the first answer to an interaction. */
const INTERACTION_DEADLINE_MS = 3_000;

type Handler = (match: RegExpMatchArray, body: Wire) => RestAnswer;

/**
 * The state and routes of the fake Discord REST API (paths below `/api/v10`),
 * with no HTTP: messages, typing, interaction callbacks, application commands,
 * gateway discovery. It answers like Discord, errors included (codes 10003,
 * 10008, 50005, 50006, 50013, 50035, 10062, 40060).
 */
export class FakeDiscordApi {
  readonly messages = new Map<string, FakeMessage>();
  readonly interactionCallbacks: InteractionCallback[] = [];
  /** Registered application commands: "global" or a guild id -> the list. */
  readonly commands = new Map<string, Wire[]>();
  readonly noSend = new Set<string>();
  readonly failures: FakeFailure[] = [];
  private readonly interactions = new Map<
    string,
    { token: string; at: number; answered: boolean; channel: FakeChannel }
  >();
  private readonly routes: Array<[string, RegExp, Handler]>;

  constructor(
    private readonly world: FakeWorld,
    private readonly token: string,
    private readonly gatewayUrl: () => string,
    /** Sends a gateway event if a client is connected (Discord echoes a bot's own messages). */
    private readonly dispatch: (t: string, d: unknown) => void,
    /** GET /gateway/bot's `shards`: how many shards Discord recommends. */
    private readonly recommendedShards = 1,
  ) {
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
      ["GET", /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/, (m) => this.getCommands(m[1]!, m[2])],
      [
        "PUT",
        /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/,
        (m, b) => this.putCommands(m[1]!, m[2], b),
      ],
      ["GET", /^\/channels\/(\d+)$/, (m) => this.getChannel(m[1]!)],
      ["POST", /^\/channels\/(\d+)\/typing$/, (m) => this.typing(m[1]!)],
      ["POST", /^\/channels\/(\d+)\/messages$/, (m, b) => this.createMessage(m[1]!, b)],
      ["PATCH", /^\/channels\/(\d+)\/messages\/(\d+)$/, (m, b) => this.editMessage(m[1]!, m[2]!, b)],
      [
        "POST",
        /^\/interactions\/(\d+)\/([^/]+)\/callback$/,
        (m, b) => this.interactionCallback(m[1]!, m[2]!, b),
      ],
      ["PATCH", /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/, (m, b) => this.editOriginal(m[2]!, b)],
    ];
  }

  /** The answer to one request: a canned failure, 401 without the bot token, or the route's. */
  answer(method: string, path: string, body: unknown, authorization: string | undefined): RestAnswer {
    const failure = this.failures.find((f) => (!f.method || f.method === method) && f.path.test(path));
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      if (failure.status !== 429)
        return [failure.status, failure.body ?? { message: "Fake failure", code: 0 }];
      const s = failure.retryAfterS ?? 1;
      const headers = {
        "retry-after": String(s),
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": String(s),
        "x-ratelimit-bucket": "fake-bucket",
        "x-ratelimit-scope": "user",
      };
      return [
        429,
        failure.body ?? { message: "You are being rate limited.", retry_after: s, global: false },
        headers,
      ];
    }
    // Interaction callbacks and webhooks authenticate with their token in the path.
    const open = /^\/(interactions|webhooks)\//.test(path);
    if (!open && authorization !== `Bot ${this.token}`)
      return [401, { message: "401: Unauthorized", code: 0 }];
    return this.route(method, path, body);
  }

  private route(method: string, path: string, body: unknown): RestAnswer {
    for (const [routeMethod, pattern, handler] of this.routes) {
      const match = method === routeMethod ? path.match(pattern) : null;
      if (match) return handler(match, body);
    }
    return [404, { message: "404: Not Found", code: 0 }];
  }

  /** Keeps a message (a person's, or the bot's) so replies and edits can find it. */
  store(message: Omit<FakeMessage, "versions">): FakeMessage {
    const m: FakeMessage = { ...message, versions: [message.content] };
    this.messages.set(m.id, m);
    return m;
  }

  /** Starts an interaction whose token is valid for Discord's 3 s; returns its token. */
  openInteraction(id: string, channel: FakeChannel): string {
    const token = `interaction-token-${id}`;
    this.interactions.set(id, { token, at: Date.now(), answered: false, channel });
    return token;
  }

  setCommands(scope: string, list: Wire[]): void {
    this.commands.set(
      scope,
      list.map((c) => this.commandPayload(c, scope)),
    );
  }

  private getCommands(applicationId: string, guildId: string | undefined): RestAnswer {
    if (applicationId !== this.world.applicationId)
      return [404, { message: "Unknown Application", code: 10002 }];
    return [200, this.commands.get(guildId ?? "global") ?? []];
  }

  private putCommands(applicationId: string, guildId: string | undefined, body: Wire): RestAnswer {
    if (applicationId !== this.world.applicationId)
      return [404, { message: "Unknown Application", code: 10002 }];
    this.setCommands(guildId ?? "global", body ?? []);
    return [200, this.commands.get(guildId ?? "global")];
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
    const problem = contentProblem(body?.content);
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
    const payload = this.botPayload(id, channel, body.content, replied);
    this.store({
      id,
      channelId,
      authorId: this.world.botUser.id,
      content: body.content,
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
    if (body?.content !== undefined) {
      const problem = contentProblem(body.content);
      if (problem) return problem;
      message.content = body.content;
      message.versions.push(body.content);
    }
    const channel = this.world.channels.get(channelId)!;
    const replied = message.replyTo ? this.messages.get(message.replyTo) : undefined;
    message.payload = {
      ...this.botPayload(messageId, channel, message.content, replied),
      edited_timestamp: new Date().toISOString(),
    };
    this.dispatch("MESSAGE_UPDATE", message.payload);
    return [200, message.payload];
  }

  private interactionCallback(id: string, token: string, body: Wire): RestAnswer {
    const interaction = this.interactions.get(id);
    const record = (status: number) => this.interactionCallbacks.push({ interactionId: id, body, status });
    if (
      !interaction ||
      interaction.token !== token ||
      Date.now() - interaction.at > INTERACTION_DEADLINE_MS
    ) {
      record(404);
      return [404, { message: "Unknown interaction", code: 10062 }];
    }
    if (interaction.answered) {
      record(400);
      return [400, { message: "Interaction has already been acknowledged.", code: 40060 }];
    }
    interaction.answered = true;
    record(204);
    return [204];
  }

  /** The follow-up edit of a deferred interaction answer (valid for 15 minutes). */
  private editOriginal(token: string, body: Wire): RestAnswer {
    const known = [...this.interactions.entries()].find(([, i]) => i.token === token);
    if (!known?.[1].answered) return [404, { message: "Unknown Webhook", code: 10015 }];
    this.interactionCallbacks.push({
      interactionId: known[0],
      body: { type: "edit", data: body },
      status: 200,
    });
    return [200, this.botPayload(snowflake(), known[1].channel, body?.content ?? "")];
  }

  private botPayload(id: string, channel: FakeChannel, content: string, replied?: FakeMessage) {
    return messagePayload({
      id,
      channel,
      author: this.world.botUser,
      content,
      world: this.world,
      withMember: false,
      replied,
    });
  }

  /** A command as Discord stores it: ids, version and defaults filled in. */
  private commandPayload(c: Wire, scope: string): Record<string, unknown> {
    return {
      id: c.id ?? snowflake(),
      application_id: this.world.applicationId,
      version: snowflake(),
      type: c.type ?? 1,
      name: c.name,
      description: c.description ?? "",
      default_member_permissions: c.default_member_permissions ?? null,
      nsfw: c.nsfw ?? false,
      ...(scope === "global"
        ? { dm_permission: true, contexts: c.contexts ?? null, integration_types: c.integration_types ?? [0] }
        : { guild_id: scope }),
      ...(c.options?.length && { options: c.options }),
    };
  }
}

function invalidForm(field: string, code: string, message: string): unknown {
  return { message: "Invalid Form Body", code: 50035, errors: { [field]: { _errors: [{ code, message }] } } };
}

/** Discord's checks on message content: at most 2,000 characters, not blank. */
function contentProblem(content: unknown): RestAnswer | undefined {
  if (typeof content !== "string" || content.trim().length === 0) {
    return [400, { message: "Cannot send an empty message", code: 50006 }];
  }
  if ([...content].length > 2000) {
    return [400, invalidForm("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")];
  }
  return undefined;
}
