import { createHmac } from "node:crypto";
import type { FakeSlack, FakeSlackMessage } from "./slack.js";
import type { FakeBlock } from "./slackWorkspace.js";

/**
 * Builds what Slack sends to an app: Events API envelopes, message and
 * app_mention events, slash-command forms, and the v0 request signature
 * (`X-Slack-Signature: v0=hmac_sha256(secret, "v0:{ts}:{body}")`).
 */

export interface SignedHeaders {
  "x-slack-signature": string;
  "x-slack-request-timestamp": string;
}

export function signSlackBody(
  secret: string,
  body: string,
  timestampS = Math.floor(Date.now() / 1000),
): SignedHeaders {
  const hash = createHmac("sha256", secret).update(`v0:${timestampS}:${body}`).digest("hex");
  return { "x-slack-signature": `v0=${hash}`, "x-slack-request-timestamp": String(timestampS) };
}

let eventSeq = 0;

/** A message a person writes, as both the `message` and the `app_mention` event carry it. */
export interface UserMessage {
  channel: string;
  user: string;
  text: string;
  ts: string;
  thread_ts?: string;
  /** "channel", "group", "im" or "mpim"; default from the channel id (D... is "im"). */
  channel_type?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: Slack payloads are loose JSON
export type SlackPayload = Record<string, any>;

/** Wraps an event in the `event_callback` envelope Slack posts. */
export function eventEnvelope(
  fake: FakeSlack,
  event: SlackPayload,
  eventId = `Ev${++eventSeq}TEST`,
): SlackPayload {
  return {
    token: "legacy-verification-token",
    team_id: fake.teamId,
    api_app_id: "A0APP",
    event: { team: fake.teamId, ...event },
    type: "event_callback",
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: fake.teamId,
        user_id: fake.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}

export function messageEvent(m: UserMessage, extra: SlackPayload = {}): SlackPayload {
  return {
    type: "message",
    channel: m.channel,
    user: m.user,
    text: m.text,
    ts: m.ts,
    event_ts: m.ts,
    client_msg_id: `msg-${m.ts}`,
    channel_type: m.channel_type ?? (m.channel.startsWith("D") ? "im" : "channel"),
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...extra,
  };
}

export function appMentionEvent(m: UserMessage): SlackPayload {
  return {
    type: "app_mention",
    channel: m.channel,
    user: m.user,
    text: m.text,
    ts: m.ts,
    event_ts: m.ts,
    client_msg_id: `msg-${m.ts}`,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
  };
}

/** The form fields of a slash command invocation. */
export function slashCommand(
  fake: FakeSlack,
  options: { command?: string; channel: string; channelName?: string; user: string; text?: string },
): Record<string, string> {
  return {
    token: "legacy-verification-token",
    team_id: fake.teamId,
    team_domain: "test",
    channel_id: options.channel,
    channel_name: options.channelName ?? (options.channel.startsWith("D") ? "directmessage" : "general"),
    user_id: options.user,
    user_name: options.user.toLowerCase(),
    command: options.command ?? "/reset",
    text: options.text ?? "",
    api_app_id: "A0APP",
    is_enterprise_install: "false",
    response_url: "https://hooks.slack.invalid/commands/T0TEAM/1/abc",
    // Slack gives every invocation its own trigger_id, so no two commands' bodies (and signatures) match.
    trigger_id: `${Date.now()}.${++eventSeq}.abc`,
  };
}

/**
 * assistant_thread_started (or _context_changed): someone opened the
 * assistant pane (or moved to another channel while it is open).
 * @see https://docs.slack.dev/reference/events/assistant_thread_started
 */
export function assistantThreadEvent(
  fake: FakeSlack,
  options: {
    user: string;
    channel: string;
    threadTs: string;
    contextChannel?: string;
    type?: "assistant_thread_started" | "assistant_thread_context_changed";
  },
): SlackPayload {
  return {
    type: options.type ?? "assistant_thread_started",
    assistant_thread: {
      user_id: options.user,
      context: {
        ...(options.contextChannel ? { channel_id: options.contextChannel } : {}),
        team_id: fake.teamId,
        enterprise_id: null,
      },
      channel_id: options.channel,
      thread_ts: options.threadTs,
    },
    event_ts: fake.nextTs(),
  };
}

/**
 * What Slack posts when someone presses a button of `message`: a
 * `block_actions` payload naming the element (found in the message's blocks
 * as the person sees them, so a test can only press what is there), the
 * message and its container. `value` picks a feedback button ("up"/"down").
 * @see https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 */
export function pressButton(
  fake: FakeSlack,
  message: FakeSlackMessage,
  actionId: string,
  options: { user: string; value?: string },
): SlackPayload {
  const found = findElement(message.blocks ?? [], actionId);
  if (!found)
    throw new Error(
      `the message ${message.ts} has no ${actionId} button (blocks: ${JSON.stringify(message.blocks)})`,
    );
  const { block, element } = found;
  const feedback = element.type === "feedback_buttons";
  const button = feedback
    ? options.value === "down"
      ? element.negative_button
      : element.positive_button
    : element;
  return {
    type: "block_actions",
    user: {
      id: options.user,
      username: options.user.toLowerCase(),
      name: options.user.toLowerCase(),
      team_id: fake.teamId,
    },
    api_app_id: "A0APP",
    token: "legacy-verification-token",
    container: {
      type: "message",
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: false,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: `${Date.now()}.${++eventSeq}.abc`,
    team: { id: fake.teamId, domain: "test" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: message.channel, name: message.channel.startsWith("D") ? "directmessage" : "general" },
    message: fake.wire(message),
    state: { values: {} },
    response_url: `https://hooks.slack.invalid/actions/${fake.teamId}/1/abc`,
    actions: [
      {
        type: element.type,
        action_id: actionId,
        block_id: block.block_id,
        text: button.text,
        value: button.value,
        action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
      },
    ],
  };
}

function findElement(
  blocks: FakeBlock[],
  actionId: string,
): { block: FakeBlock; element: FakeBlock } | undefined {
  for (const block of blocks) {
    for (const element of (block.elements ?? []) as FakeBlock[]) {
      if (element.action_id === actionId) return { block, element };
    }
  }
  return undefined;
}

export interface PostOptions {
  /** Sign with this secret instead of the right one. */
  secret?: string;
  /** Request timestamp (s since the epoch); default now. */
  timestampS?: number;
  /** Sends X-Slack-Retry-Num / X-Slack-Retry-Reason like a redelivery. */
  retryNum?: number;
  /** Leaves the signature headers out. */
  unsigned?: boolean;
}

export interface SlackPoster {
  /** POSTs a signed JSON body (an event envelope, url_verification, ...). */
  event(payload: SlackPayload, options?: PostOptions): Promise<Response>;
  /** POSTs a signed form body (a slash command). */
  form(fields: Record<string, string>, options?: PostOptions): Promise<Response>;
  /** POSTs a signed interactivity payload (block_actions) as Slack does: a form with one `payload` field. */
  action(payload: SlackPayload, options?: PostOptions): Promise<Response>;
}

/** Sends signed requests to an app's Events API endpoint, as Slack does. */
export function slackPoster(url: string, signingSecret: string): SlackPoster {
  const post = (body: string, contentType: string, options: PostOptions = {}) => {
    const headers: Record<string, string> = { "content-type": contentType };
    if (!options.unsigned)
      Object.assign(headers, signSlackBody(options.secret ?? signingSecret, body, options.timestampS));
    if (options.retryNum !== undefined) {
      headers["x-slack-retry-num"] = String(options.retryNum);
      headers["x-slack-retry-reason"] = "http_timeout";
    }
    return fetch(url, { method: "POST", headers, body });
  };
  return {
    event: (payload, options) => post(JSON.stringify(payload), "application/json", options),
    form: (fields, options) =>
      post(new URLSearchParams(fields).toString(), "application/x-www-form-urlencoded", options),
    action: (payload, options) =>
      post(
        new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
        "application/x-www-form-urlencoded",
        options,
      ),
  };
}
