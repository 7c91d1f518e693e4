import { type FastifyInstance, fastify } from "fastify";
import { type SlackSurface, startSlack } from "../../adapters/slack/index.js";
import { createWebServer } from "../../adapters/web/index.js";
import type { Config, SlackStreaming } from "../../src/config/index.js";
import { FeedbackStore } from "../../src/feedback/index.js";
import { createLogger } from "../../src/log.js";
import { CrashRecovery } from "../../src/replicas/index.js";
import type { EditBudgetSource } from "../../src/stream/index.js";
import { type FakeRateLimit, FakeSlack } from "../fakes/slack.js";
import {
  eventEnvelope,
  type PostOptions,
  type SlackPayload,
  type SlackPoster,
  slackPoster,
} from "../fakes/slackEvents.js";
import { FakeSlackSocket } from "../fakes/slackSocket.js";
import { makeTestBot, type TestBot, type TestBotOptions } from "../helpers/bot.js";
import { webConfig } from "../web/harness.js";

export const CURSOR = "▌";
export const SIGNING_SECRET = "test-signing-secret-123";
export const CHANNEL = "C0GENERAL";
export const DM = "D0ALICE";
/** A group ping as Slack reads it: a special mention, or the plain word (pinging with link_names). */
export const GROUP_PING = /<!(channel|here|everyone|subteam)|(?<![\w.])@(channel|here|everyone)\b/i;
export const ALICE = { id: "U0ALICE", name: "alice", display_name: "Alice" };
export const BOB = { id: "U0BOB", name: "bob", display_name: "Bob" };
/** A workspace admin: may stop anyone's answer. */
export const CAROL = { id: "U0CAROL", name: "carol", display_name: "Carol", is_admin: true };

export interface HarnessOptions {
  mode?: "http" | "socket";
  requireMention?: boolean;
  editsPerMinute?: number;
  budgets?: EditBudgetSource;
  postBudgets?: EditBudgetSource;
  /** How the test bot is made (provider, vision, models, access lists, admins, store URL, ...). */
  bot?: TestBotOptions;
  /** Remember streamed messages in the bot's store (CrashRecovery), beating every `heartbeatMs`. */
  recovery?: { heartbeatMs: number };
  /** SLACK_STREAMING (default auto). */
  streaming?: SlackStreaming;
  /** SLACK_SUGGESTED_PROMPTS (default none). */
  suggestedPrompts?: string[];
  /** Budgets of the native streaming methods and chat.delete (default: each tier's). */
  streamBudgets?: Partial<Record<"start" | "append" | "stop" | "delete", EditBudgetSource>>;
  /** Native streams' pace and rotation (default: a quick pace so tests see several appends). */
  streamTiming?: { appendEveryMs?: number; rotateAfterMs?: number };
  /** The fake's stream lifetime (ms) and per-method limits. */
  streamLifetimeMs?: number;
  rateLimits?: Record<string, FakeRateLimit>;
  /** Receive events on the web adapter's server (as `npm start` does), not a bare Fastify. */
  webServer?: boolean;
}

/**
 * The Slack adapter started for real: Bolt against a FakeSlack Web API, a
 * real Bot (FakeOpenAI + SQLite), and either a Fastify server on 127.0.0.1
 * receiving signed Events API requests or a fake Socket Mode server.
 */
export interface Harness {
  slack: FakeSlack;
  testBot: TestBot;
  handle: SlackSurface;
  /** Set with the `recovery` option. */
  recovery: CrashRecovery | undefined;
  /** Where the adapter keeps 👍/👎 votes. */
  feedback: FeedbackStore;
  /** Sends a button press (block_actions) as Slack does: signed to /slack/events, or over the socket. */
  press(payload: SlackPayload, options?: PostOptions): Promise<Response | undefined>;
  /** Signed requests to POST /slack/events (HTTP mode). */
  post: SlackPoster;
  eventsUrl: string;
  socket: FakeSlackSocket | undefined;
  /** Every log line the adapter wrote (pino JSON objects). */
  logs: Array<Record<string, unknown>>;
  /** An event envelope for this workspace. */
  envelope(event: SlackPayload, eventId?: string): SlackPayload;
  /**
   * What Slack does when a person writes: keeps the message (so
   * conversations.replies sees it), then POSTs the signed event (Socket
   * Mode: sends it over the socket). Returns the HTTP answer.
   */
  deliver(event: SlackPayload, options?: PostOptions): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const slack = await FakeSlack.start({
    ...(options.streamLifetimeMs !== undefined ? { streamLifetimeMs: options.streamLifetimeMs } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
  });
  slack.addUser(ALICE);
  slack.addUser(BOB);
  slack.addUser(CAROL);
  const socket = options.mode === "socket" ? await FakeSlackSocket.start(slack) : undefined;
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: "debug",
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  const testBot = await makeTestBot({ ...options.bot, log });
  const recovery = options.recovery
    ? new CrashRecovery(testBot.store.state, testBot.store.coordination.atomic, {
        heartbeatMs: options.recovery.heartbeatMs,
        sweepEveryMs: 0,
      })
    : undefined;
  await recovery?.start();
  const config: Config["slack"] = {
    botToken: slack.botToken,
    appToken: socket ? slack.appToken : undefined,
    signingSecret: socket ? undefined : SIGNING_SECRET,
    apiUrl: slack.apiUrl,
    requireMention: options.requireMention ?? false,
    editsPerMinute: options.editsPerMinute ?? 600,
    streaming: options.streaming ?? "auto",
    suggestedPrompts: options.suggestedPrompts ?? [],
  };
  const feedback = new FeedbackStore(testBot.store.state);
  let http: FastifyInstance | undefined;
  if (!socket && options.webServer) {
    const web = { ...webConfig(), cursor: CURSOR };
    http = await createWebServer({
      bot: testBot.bot,
      turns: testBot.turns,
      config: web,
      log,
      usage: testBot.usage,
    });
  } else if (!socket) http = fastify();
  const handle = await startSlack({
    bot: testBot.bot,
    turns: testBot.turns,
    settings: testBot.settings,
    access: testBot.access,
    usage: testBot.usage,
    config,
    cursor: CURSOR,
    log,
    ...(http ? { http } : {}),
    ...(options.budgets ? { budgets: options.budgets } : {}),
    ...(options.postBudgets ? { postBudgets: options.postBudgets } : {}),
    ...(recovery ? { recovery } : {}),
    ...(options.streamBudgets ? { streamBudgets: options.streamBudgets } : {}),
    streamTiming: { appendEveryMs: 50, ...options.streamTiming },
    feedback,
  });
  let eventsUrl = "";
  if (http) {
    await http.listen({ port: 0, host: "127.0.0.1" });
    const address = http.server.address();
    eventsUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/slack/events`;
  }
  return {
    slack,
    testBot,
    handle,
    recovery,
    post: slackPoster(eventsUrl, SIGNING_SECRET),
    eventsUrl,
    socket,
    logs,
    feedback,
    press: async (payload, postOptions) => {
      if (!socket) return slackPoster(eventsUrl, SIGNING_SECRET).action(payload, postOptions);
      await socket.waitForAck(socket.sendInteractive(payload));
      return undefined;
    },
    envelope: (event, eventId) => eventEnvelope(slack, event, eventId),
    deliver: async (event, postOptions) => {
      keep(slack, event);
      if (!socket)
        return slackPoster(eventsUrl, SIGNING_SECRET).event(eventEnvelope(slack, event), postOptions);
      // Socket Mode: the same envelope over the socket; its ack stands for the HTTP answer.
      await socket.waitForAck(socket.sendEvent(eventEnvelope(slack, event)));
      return new Response(null, { status: 200 });
    },
    close: async () => {
      await handle.stop(1_000);
      await http?.close();
      await socket?.close();
      await testBot.close();
      await slack.close();
    },
  };
}

/** Stores a person's message in the fake workspace once, as Slack would before sending its events. */
export function keep(slack: FakeSlack, event: SlackPayload): void {
  if (event.type !== "message" && event.type !== "app_mention") return;
  if (event.subtype || event.bot_id || !event.user || slack.hasMessage(event.channel, event.ts)) return;
  slack.addMessage({
    channel: event.channel,
    ts: event.ts,
    user: event.user,
    text: event.text ?? "",
    ...(event.thread_ts ? { thread_ts: event.thread_ts } : {}),
  });
}

/** Waits until the bot's messages in a thread read `expected` (joined), with no cursor left anywhere. */
export async function waitForAnswer(
  h: Harness,
  channel: string,
  threadTs: string | undefined,
  expected: string,
) {
  const texts = () => h.slack.botMessagesIn(channel, threadTs).map((m) => m.text);
  await h.slack.waitFor(
    () => texts().join("\n") === expected,
    10_000,
    `the answer ${JSON.stringify(expected.slice(0, 60))} (now ${JSON.stringify(texts())})`,
  );
}

/** Model replies streamed slowly in small pieces, so the user sees intermediate edits. */
export function slowly(
  text: string,
  pieces = 6,
  chunkDelayMs = 40,
): { chunks: string[]; chunkDelayMs: number } {
  const size = Math.ceil(text.length / pieces);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return { chunks, chunkDelayMs };
}
