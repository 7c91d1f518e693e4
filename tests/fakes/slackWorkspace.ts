/** Who the fake workspace and its bot are. */
export interface FakeSlackOptions {
  teamId?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
  botToken?: string;
  appToken?: string;
}

/** A message as the fake workspace holds it (after every edit). */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  thread_ts?: string;
  subtype?: string;
  /** How many times chat.update changed it. */
  edits: number;
}

export interface FakeSlackUser {
  id: string;
  name: string;
  real_name?: string;
  display_name?: string;
  /** A workspace admin (users.info `is_admin`). */
  is_admin?: boolean;
  /** A workspace owner (users.info `is_owner`). */
  is_owner?: boolean;
}

/** A message only one person sees (chat.postEphemeral). */
export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
}

/**
 * The state of a fake Slack workspace (its bot, users and the messages of its
 * channels) and the Web API methods answered from it, the way Slack answers.
 */
export class FakeSlackWorkspace {
  readonly teamId: string;
  readonly teamName: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botToken: string;
  readonly appToken: string;
  /** The URL apps.connections.open hands out (set by a FakeSlackSocket). */
  socketUrl: string | undefined;
  private readonly messages: FakeSlackMessage[] = [];
  /** Every ephemeral message the bot sent, in order. */
  readonly ephemerals: FakeEphemeral[] = [];
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly clock = 1_700_000_000;
  private seq = 0;

  protected constructor(options: FakeSlackOptions) {
    this.teamId = options.teamId ?? "T0TEAM";
    this.teamName = options.teamName ?? "Test Team";
    this.botUserId = options.botUserId ?? "U0BOT";
    this.botId = options.botId ?? "B0BOT";
    this.botToken = options.botToken ?? "xoxb-test-token-0000";
    this.appToken = options.appToken ?? "xapp-test-token-0000";
  }

  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, user);
  }

  /** A new message timestamp, later than every earlier one (Slack's "seconds.micros"). */
  nextTs(): string {
    this.seq++;
    return `${this.clock + this.seq}.${String(this.seq).padStart(6, "0")}`;
  }

  /** Puts a message into a channel as if someone wrote it (for conversations.replies). */
  addMessage(message: Omit<FakeSlackMessage, "edits" | "ts"> & { ts?: string }): FakeSlackMessage {
    const stored: FakeSlackMessage = { ...message, ts: message.ts ?? this.nextTs(), edits: 0 };
    this.messages.push(stored);
    return stored;
  }

  hasMessage(channel: string, ts: string): boolean {
    return this.messages.some((m) => m.channel === channel && m.ts === ts);
  }

  /** Messages of a channel (optionally of one thread, parent included), oldest first, as they look now. */
  messagesIn(channel: string, threadTs?: string): FakeSlackMessage[] {
    return this.messages.filter(
      (m) =>
        m.channel === channel && (threadTs === undefined || m.ts === threadTs || m.thread_ts === threadTs),
    );
  }

  /** The bot's own messages in a channel or thread, as they look now. */
  botMessagesIn(channel: string, threadTs?: string): FakeSlackMessage[] {
    return this.messagesIn(channel, threadTs).filter((m) => m.bot_id === this.botId);
  }

  // biome-ignore lint/suspicious/noExplicitAny: Slack's answers are loose JSON
  protected answer(method: string, p: Record<string, any>): Record<string, any> {
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://test.slack.com/",
          team: this.teamName,
          user: "chatbot",
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case "chat.postMessage": {
        if (!p.channel) return { ok: false, error: "channel_not_found" };
        if (!p.text && !p.blocks) return { ok: false, error: "no_text" };
        if (typeof p.text === "string" && p.text.length > 4_000) return { ok: false, error: "msg_too_long" };
        const message = this.addMessage({
          channel: p.channel,
          text: p.text ?? "",
          user: this.botUserId,
          bot_id: this.botId,
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
        });
        return { ok: true, channel: p.channel, ts: message.ts, message: this.wire(message) };
      }
      case "chat.update": {
        const message = this.messages.find((m) => m.channel === p.channel && m.ts === p.ts);
        if (!message) return { ok: false, error: "message_not_found" };
        if (message.bot_id !== this.botId) return { ok: false, error: "cant_update_message" };
        if (typeof p.text === "string" && p.text.length > 4_000) return { ok: false, error: "msg_too_long" };
        message.text = p.text ?? message.text;
        message.edits++;
        return { ok: true, channel: p.channel, ts: p.ts, text: message.text, message: this.wire(message) };
      }
      case "chat.postEphemeral": {
        if (!p.channel) return { ok: false, error: "channel_not_found" };
        if (!p.user || !this.users.has(p.user)) return { ok: false, error: "user_not_in_channel" };
        if (!p.text && !p.blocks) return { ok: false, error: "no_text" };
        this.ephemerals.push({
          channel: p.channel,
          user: p.user,
          text: p.text ?? "",
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
        });
        return { ok: true, message_ts: this.nextTs() };
      }
      case "conversations.replies": {
        const thread = this.messagesIn(p.channel, String(p.ts));
        if (thread.length === 0) return { ok: false, error: "thread_not_found" };
        return { ok: true, messages: thread.map((m) => this.wire(m)), has_more: false };
      }
      case "users.info": {
        const user = this.users.get(p.user);
        if (!user) return { ok: false, error: "user_not_found" };
        return {
          ok: true,
          user: {
            id: user.id,
            team_id: this.teamId,
            name: user.name,
            real_name: user.real_name ?? user.name,
            is_admin: user.is_admin === true || user.is_owner === true,
            is_owner: user.is_owner === true,
            is_primary_owner: false,
            is_bot: false,
            profile: { display_name: user.display_name ?? "", real_name: user.real_name ?? user.name },
          },
        };
      }
      case "apps.connections.open":
        if (!this.socketUrl) return { ok: false, error: "not_allowed_token_type" };
        return { ok: true, url: this.socketUrl };
      case "assistant.threads.setStatus":
      case "reactions.add":
        return { ok: true };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private wire(m: FakeSlackMessage): Record<string, unknown> {
    const { edits: _edits, channel: _channel, ...rest } = m;
    return { type: "message", ...rest };
  }
}
