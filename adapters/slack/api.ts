import { LogLevel, type Logger as SlackLogger, webApi } from "@slack/bolt";
import type { OtherErrorCode } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import { PlatformRateLimitError } from "../../src/stream/index.js";
import type { SlackBlock } from "./blocks.js";

/** A Slack Web API call failed; `slackCode` is Slack's error (`missing_scope`, `channel_not_found`, ...). */
export class SlackApiError extends Error {
  readonly code: OtherErrorCode = "slack_api";
  constructor(
    readonly method: string,
    readonly slackCode: string,
    options: { cause?: unknown } = {},
  ) {
    super(`Slack ${method} failed: ${slackCode}`, options);
    this.name = "SlackApiError";
  }
}

/** Used when Slack says "ratelimited" without a Retry-After (it always sends one on 429). */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** Slack's error code of a failed call, and the wait it asked for when rate limited. */
export function describeSlackError(err: unknown): { slackCode: string; retryAfterMs?: number } {
  if (err instanceof webApi.WebAPIRateLimitedError)
    return { slackCode: "ratelimited", retryAfterMs: err.retryAfter * 1000 };
  if (err instanceof webApi.WebAPIPlatformError) {
    const slackCode = err.data.error;
    return slackCode === "ratelimited" ? { slackCode, retryAfterMs: DEFAULT_RETRY_AFTER_MS } : { slackCode };
  }
  if (err instanceof webApi.WebAPIHTTPError) return { slackCode: `http_${err.statusCode}` };
  if (err instanceof webApi.WebAPIRequestError) return { slackCode: "request_failed" };
  return { slackCode: err instanceof Error ? err.message : String(err) };
}

/** What one message of the bot looks like when read back with conversations.replies. */
export interface ThreadMessage {
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  username?: string;
  bot_profile?: { name?: string };
}

/** A person as the bot needs them: the name people see, and whether they administer the workspace. */
export interface SlackUser {
  name: string;
  /** Workspace admin or owner (users.info `is_admin` / `is_owner`). */
  isAdmin: boolean;
}

/** Where a native stream goes; outside a DM Slack needs the one person who sees it live. */
export interface StreamStart {
  channel: string;
  thread_ts: string;
  markdown_text: string;
  recipient_user_id?: string;
  recipient_team_id?: string;
}

/**
 * The Web API calls the adapter makes. Every failure is logged once here
 * with the method and Slack's error code; a rate limit becomes
 * PlatformRateLimitError (the renderer's budget honours it), anything else
 * SlackApiError. The streaming methods are called directly (not through the
 * SDK's chatStream helper, which buffers on its own schedule), so the bot's
 * budgets decide when each call goes out and it always knows what is shown.
 */
export class SlackApi {
  private readonly users = new Map<string, { user: SlackUser; atMs: number }>();

  constructor(
    readonly client: webApi.WebClient,
    private readonly log: Logger,
    private readonly nameTtlMs = 3_600_000,
  ) {}

  async postMessage(args: {
    channel: string;
    text: string;
    thread_ts?: string;
    blocks?: SlackBlock[];
  }): Promise<string> {
    const res = await this.call("chat.postMessage", () =>
      this.client.chat.postMessage({ ...args, unfurl_links: false, unfurl_media: false }),
    );
    return res.ts as string;
  }

  /** `blocks: []` removes the message's blocks (its controls); absent keeps them. */
  async update(args: { channel: string; ts: string; text: string; blocks?: SlackBlock[] }): Promise<void> {
    await this.call("chat.update", () => this.client.chat.update(args));
  }

  async delete(channel: string, ts: string): Promise<void> {
    await this.call("chat.delete", () => this.client.chat.delete({ channel, ts }));
  }

  /** A message only `user` sees, in the channel (or thread) they are looking at. */
  async postEphemeral(args: {
    channel: string;
    user: string;
    text: string;
    thread_ts?: string;
  }): Promise<void> {
    await this.call("chat.postEphemeral", () => this.client.chat.postEphemeral(args));
  }

  /** Starts a native stream with its first text; returns the message's ts. */
  async startStream(args: StreamStart): Promise<string> {
    const res = await this.call("chat.startStream", () => this.client.chat.startStream(args));
    if (!res.ts) throw new SlackApiError("chat.startStream", "no_ts");
    return res.ts;
  }

  async appendStream(args: { channel: string; ts: string; markdown_text: string }): Promise<void> {
    await this.call("chat.appendStream", () => this.client.chat.appendStream(args));
  }

  /** Ends a native stream, with its last text and the blocks rendered under it. */
  async stopStream(args: {
    channel: string;
    ts: string;
    markdown_text?: string;
    blocks?: SlackBlock[];
  }): Promise<void> {
    await this.call("chat.stopStream", () => this.client.chat.stopStream(args));
  }

  /** The assistant pane's "is thinking…" line under a thread; "" clears it. */
  async setStatus(channel: string, threadTs: string, status: string): Promise<void> {
    await this.call("assistant.threads.setStatus", () =>
      this.client.assistant.threads.setStatus({ channel_id: channel, thread_ts: threadTs, status }),
    );
  }

  async setTitle(channel: string, threadTs: string, title: string): Promise<void> {
    await this.call("assistant.threads.setTitle", () =>
      this.client.assistant.threads.setTitle({ channel_id: channel, thread_ts: threadTs, title }),
    );
  }

  async setSuggestedPrompts(channel: string, threadTs: string, prompts: string[]): Promise<void> {
    await this.call("assistant.threads.setSuggestedPrompts", () =>
      this.client.assistant.threads.setSuggestedPrompts({
        channel_id: channel,
        thread_ts: threadTs,
        prompts: prompts.map((p) => ({ title: p, message: p })),
      }),
    );
  }

  /** Every message of a thread, parent first, up to `maxMessages` of the newest. */
  async replies(channel: string, threadTs: string, maxMessages: number): Promise<ThreadMessage[]> {
    const out: ThreadMessage[] = [];
    let cursor: string | undefined;
    // Pages come oldest first; keep reading so the newest messages are the ones kept.
    for (let page = 0; page < 10; page++) {
      const res = await this.call("conversations.replies", () =>
        this.client.conversations.replies({
          channel,
          ts: threadTs,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }),
      );
      out.push(...((res.messages ?? []) as ThreadMessage[]));
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) break;
    }
    return out.slice(-maxMessages);
  }

  /** The name people see for a user (display name, else real name, else handle); the id if Slack will not say. */
  async userName(userId: string): Promise<string> {
    return (await this.user(userId)).name;
  }

  /**
   * A user's name and admin rights, cached (`fresh`: asked again, for a
   * permission check); a user Slack will not describe is named by id, no admin.
   */
  async user(userId: string, options: { fresh?: boolean } = {}): Promise<SlackUser> {
    const cached = this.users.get(userId);
    if (cached && !options.fresh && Date.now() - cached.atMs < this.nameTtlMs) return cached.user;
    let user: SlackUser = { name: userId, isAdmin: false };
    try {
      const res = await this.call("users.info", () => this.client.users.info({ user: userId }));
      const u = res.user;
      user = {
        name: u?.profile?.display_name || u?.profile?.real_name || u?.real_name || u?.name || userId,
        isAdmin: u?.is_admin === true || u?.is_owner === true || u?.is_primary_owner === true,
      };
    } catch {
      // Logged in call(); a missing name must not stop an answer. Asked again in a minute.
      this.users.set(userId, { user, atMs: Date.now() - this.nameTtlMs + 60_000 });
      return user;
    }
    if (this.users.size > 5_000) this.users.clear();
    this.users.set(userId, { user, atMs: Date.now() });
    return user;
  }

  private async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const { slackCode, retryAfterMs } = describeSlackError(err);
      this.log.warn({ method, slackCode, retryAfterMs }, `Slack ${method} failed: ${slackCode}`);
      if (retryAfterMs !== undefined)
        throw new PlatformRateLimitError(retryAfterMs, `Slack ${method}: ratelimited`);
      throw new SlackApiError(method, slackCode, { cause: err });
    }
  }
}

/**
 * Web API client options: the base URL (tests, proxies), and no silent
 * sleeping on 429 so the renderer's edit budget sees every rate limit. Network
 * failures get a couple of quick retries instead of the SDK's 30 minutes.
 */
export function webClientOptions(apiUrl: string | undefined, logger: SlackLogger): webApi.WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2_000 },
    timeout: 15_000,
    logger,
  };
}

/** Bolt's and the SDK's logger interface over our pino logger. */
export function slackLogger(log: Logger): SlackLogger {
  const child = log.child({ component: "slack-sdk" });
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(" ");
  const errOf = (msg: unknown[]) => msg.find((m): m is Error => m instanceof Error);
  return {
    debug: (...msg) => child.debug(line(msg)),
    info: (...msg) => child.info(line(msg)),
    warn: (...msg) => child.warn({ err: errOf(msg) }, line(msg)),
    error: (...msg) => child.error({ err: errOf(msg) }, line(msg)),
    setLevel: () => {},
    getLevel: () => {
      const level = child.level;
      if (level === "trace" || level === "debug") return LogLevel.DEBUG;
      if (level === "info") return LogLevel.INFO;
      if (level === "warn") return LogLevel.WARN;
      return LogLevel.ERROR;
    },
    setName: () => {},
  };
}
