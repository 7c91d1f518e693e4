import { answerStreamMethod, type FakeStream } from "./slackStreams.js";

/** Who the fake workspace and its bot are, and how its native streams behave. */
export interface FakeSlackOptions {
  teamId?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
  botToken?: string;
  appToken?: string;
  /**
   * How long after chat.startStream Slack ends a stream by itself (ms; default
   * 300,000, as peers measured): later appends and stops answer
   * `message_not_in_streaming_state`, and the message keeps what it had.
   */
  streamLifetimeMs?: number;
  /**
   * Timestamps from the wall clock (seconds.micros of now, as Slack's are),
   * each later than the last; default: a fixed clock plus a second per message.
   */
  realTime?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the SDK sent it
export type FakeBlock = Record<string, any>;

/** A message as the fake workspace holds it (after every edit). */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  /**
   * What people see: the text of its section blocks when it has some (Slack
   * then shows the blocks, `text` is only the notification fallback), else
   * `text`; for a native stream, everything streamed into it.
   */
  text: string;
  user?: string;
  bot_id?: string;
  thread_ts?: string;
  subtype?: string;
  /** How many times chat.update changed it. */
  edits: number;
  /** Its blocks as last posted, updated or added by chat.stopStream. */
  blocks?: FakeBlock[];
  /** Set on a message made by chat.startStream. */
  stream?: FakeStream;
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

/** An assistant thread as its pane looks: the status under it, its title, the suggested prompts. */
export interface FakeAssistantThread {
  status: string;
  /** Every status set, in order ("" clears). */
  statuses: string[];
  title?: string;
  prompts?: Array<{ title: string; message: string }>;
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
  streamLifetimeMs: number;
  /** The URL apps.connections.open hands out (set by a FakeSlackSocket). */
  socketUrl: string | undefined;
  /** Messages removed with chat.delete. */
  readonly deleted: FakeSlackMessage[] = [];
  private readonly messages: FakeSlackMessage[] = [];
  /** Every ephemeral message the bot sent, in order. */
  readonly ephemerals: FakeEphemeral[] = [];
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly threads = new Map<string, FakeAssistantThread>();
  private readonly clock = 1_700_000_000;
  private seq = 0;
  private readonly realTime: boolean;
  private lastMicros = 0;

  protected constructor(options: FakeSlackOptions) {
    this.teamId = options.teamId ?? "T0TEAM";
    this.teamName = options.teamName ?? "Test Team";
    this.botUserId = options.botUserId ?? "U0BOT";
    this.botId = options.botId ?? "B0BOT";
    this.botToken = options.botToken ?? "xoxb-test-token-0000";
    this.appToken = options.appToken ?? "xapp-test-token-0000";
    this.streamLifetimeMs = options.streamLifetimeMs ?? 300_000;
    this.realTime = options.realTime ?? false;
  }

  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, user);
  }

  /** A new message timestamp, later than every earlier one (Slack's "seconds.micros"). */
  nextTs(): string {
    this.seq++;
    if (this.realTime) {
      this.lastMicros = Math.max(this.lastMicros + 1, Math.floor(Date.now() * 1000));
      return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, "0")}`;
    }
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

  message(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
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

  /**
   * What `userId` sees of a message: a native stream still being written is
   * shown live to its recipient only; everyone else sees its first chunk
   * until it stops.
   */
  seenBy(message: FakeSlackMessage, userId: string): string {
    const stream = message.stream;
    if (stream && this.streaming(message) && stream.recipient && stream.recipient !== userId)
      return stream.chunks[0] ?? "";
    return message.text;
  }

  /** Whether a native stream still takes text (Slack ends it `streamLifetimeMs` after it started). */
  streaming(message: FakeSlackMessage): boolean {
    const stream = message.stream;
    if (!stream?.open) return false;
    if (Date.now() - stream.startedAt >= this.streamLifetimeMs) stream.open = false;
    return stream.open;
  }

  /** Ends a native stream now, as Slack does when its time is up. */
  expireStream(channel: string, ts: string): void {
    const stream = this.message(channel, ts)?.stream;
    if (stream) stream.open = false;
  }

  /** The assistant pane's view of a thread (status, title, prompts); created on first use. */
  thread(channel: string, threadTs: string): FakeAssistantThread {
    const key = `${channel}:${threadTs}`;
    let thread = this.threads.get(key);
    if (!thread) {
      thread = { status: "", statuses: [] };
      this.threads.set(key, thread);
    }
    return thread;
  }

  // biome-ignore lint/suspicious/noExplicitAny: Slack's answers are loose JSON
  protected answer(method: string, p: Record<string, any>): Record<string, any> {
    const streamed = answerStreamMethod(this, method, p);
    if (streamed) return streamed;
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
        const invalid = invalidBlocks(p.blocks);
        if (invalid) return { ok: false, error: "invalid_blocks", errors: [invalid] };
        const message = this.addMessage({
          channel: p.channel,
          text: shownText(p.text, p.blocks),
          user: this.botUserId,
          bot_id: this.botId,
          ...(Array.isArray(p.blocks) && p.blocks.length > 0 ? { blocks: p.blocks } : {}),
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
        });
        if (p.thread_ts) this.botPostedIn(p.channel, String(p.thread_ts));
        return { ok: true, channel: p.channel, ts: message.ts, message: this.wire(message) };
      }
      case "chat.update": {
        const message = this.message(p.channel, p.ts);
        if (!message) return { ok: false, error: "message_not_found" };
        if (message.bot_id !== this.botId) return { ok: false, error: "cant_update_message" };
        if (typeof p.text === "string" && p.text.length > 4_000) return { ok: false, error: "msg_too_long" };
        const invalid = invalidBlocks(p.blocks);
        if (invalid) return { ok: false, error: "invalid_blocks", errors: [invalid] };
        // Slack keeps the message's blocks unless the update sends some; `[]` removes them.
        if (Array.isArray(p.blocks)) message.blocks = p.blocks.length > 0 ? p.blocks : undefined;
        message.text = shownText(p.text ?? message.text, message.blocks);
        message.edits++;
        return { ok: true, channel: p.channel, ts: p.ts, text: message.text, message: this.wire(message) };
      }
      case "chat.delete": {
        const index = this.messages.findIndex((m) => m.channel === p.channel && m.ts === p.ts);
        const message = this.messages[index];
        if (!message) return { ok: false, error: "message_not_found" };
        if (message.bot_id !== this.botId) return { ok: false, error: "cant_delete_message" };
        this.messages.splice(index, 1);
        this.deleted.push(message);
        return { ok: true, channel: p.channel, ts: p.ts };
      }
      case "chat.postEphemeral":
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
      case "reactions.add":
        return { ok: true };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  /** Slack removes a thread's "thinking" status when the bot replies in it. */
  botPostedIn(channel: string, threadTs: string): void {
    const thread = this.threads.get(`${channel}:${threadTs}`);
    if (thread && thread.status !== "") {
      thread.status = "";
      thread.statuses.push("");
    }
  }

  wire(m: FakeSlackMessage): Record<string, unknown> {
    const { edits: _edits, channel: _channel, stream: _stream, ...rest } = m;
    return { type: "message", ...rest };
  }
}

/** The text people see of a message: its section blocks' text when it has blocks, else `text`. */
function shownText(text: unknown, blocks: unknown): string {
  if (Array.isArray(blocks) && blocks.length > 0) {
    return blocks
      .filter((b: FakeBlock) => b.type === "section" && typeof b.text?.text === "string")
      .map((b: FakeBlock) => b.text.text as string)
      .join("\n");
  }
  return typeof text === "string" ? text : "";
}

/**
 * Block Kit's limits the bot could break: a section's text is at most 3,000
 * characters, a message has at most 50 blocks.
 * @see https://docs.slack.dev/reference/block-kit/blocks/section-block
 */
function invalidBlocks(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return "blocks must be an array";
  if (blocks.length > 50) return "no more than 50 items allowed [json-pointer:/blocks]";
  for (const [i, b] of (blocks as FakeBlock[]).entries()) {
    if (b.type === "section" && String(b.text?.text ?? "").length > 3_000)
      return `must be less than 3001 characters [json-pointer:/blocks/${i}/text]`;
  }
  return undefined;
}
