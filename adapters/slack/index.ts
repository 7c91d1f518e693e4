import { App, webApi } from "@slack/bolt";
import type { FastifyInstance } from "fastify";
import type { Config } from "../../src/config/index.js";
import { StartError } from "../../src/errors.js";
import { FeedbackStore } from "../../src/feedback/index.js";
import type { Logger } from "../../src/log.js";
import type { CrashRecovery, MessageFinisher } from "../../src/replicas/index.js";
import type { Access, PlaceSettings } from "../../src/settings/index.js";
import { type EditBudgetSource, EditBudgets } from "../../src/stream/index.js";
import { slackTokenRejected } from "../../src/texts.js";
import type { Bot, Surface, TurnTracker } from "../../src/turn/index.js";
import type { UsageMeter } from "../../src/usage/index.js";
import { registerActions } from "./actions.js";
import { describeSlackError, SlackApi, slackLogger, webClientOptions } from "./api.js";
import { registerAssistant } from "./assistant.js";
import { slackFinisher } from "./finisher.js";
import { registerHandlers } from "./handlers.js";
import {
  DELETES_PER_MINUTE,
  STREAM_APPENDS_PER_MINUTE,
  STREAM_STARTS_PER_MINUTE,
  STREAM_STOPS_PER_MINUTE,
} from "./limits.js";
import { FastifyReceiver } from "./receiver.js";
import type { NativeDeps } from "./respond.js";

export {
  DELETES_PER_MINUTE,
  STREAM_APPENDS_PER_MINUTE,
  STREAM_STARTS_PER_MINUTE,
  STREAM_STOPS_PER_MINUTE,
} from "./limits.js";

/**
 * Slack's limits the budgets mirror. chat.update is a Tier 3 method (about 50
 * calls a minute per workspace, shared by every answer being written);
 * chat.postMessage allows about one message a second per channel, with short
 * bursts.
 * @see https://api.slack.com/methods/chat.update
 * @see https://api.slack.com/methods/chat.postMessage#rate_limiting
 * @see https://api.slack.com/apis/rate-limits
 */
export const POSTS_PER_WINDOW = 3;
export const POST_WINDOW_MS = 3_000;

export interface SlackOptions {
  bot: Bot;
  /** Every surface's answers in flight; Slack's are drained on stop. */
  turns: TurnTracker;
  config: Config["slack"];
  /** The glyph at the end of a message while it is still being written. */
  cursor: string;
  log: Logger;
  /** The web server (not yet listening) that gets POST /slack/events; needed unless Socket Mode. */
  http?: FastifyInstance;
  /**
   * chat.update budgets per workspace (e.g. SharedEditBudgets across replicas).
   * Default: in-process, `config.editsPerMinute` per 60 s.
   */
  budgets?: EditBudgetSource;
  /**
   * chat.postMessage budgets per channel (shared across replicas where the
   * store can). Default: in-process, 3 per 3 s.
   */
  postBudgets?: EditBudgetSource;
  /** Remembers messages being streamed, so a crash never leaves a cursor (src/replicas/recovery.ts). */
  recovery?: CrashRecovery;
  /** Per-place settings and the /chatbot command that changes them. */
  settings: PlaceSettings;
  /** Who may use the bot, and change its settings. */
  access: Access;
  /**
   * Budgets per workspace of the native streaming methods and chat.delete
   * (shared across replicas where the store can). Default: in-process, each
   * its tier's calls per minute (limits.ts); appends are not paced, only windowed.
   */
  streamBudgets?: Partial<NativeDeps["budgets"]>;
  /** Native streams' pace and lifetime (tests shorten them); see NativeOptions in stream.ts. */
  streamTiming?: { appendEveryMs?: number; rotateAfterMs?: number };
  /** Where 👍/👎 votes are kept. Default: a FeedbackStore in the bot's store. */
  feedback?: FeedbackStore;
  /** Tokens per user and channel, and the daily limits (/usage). */
  usage: UsageMeter;
}

/** The Slack surface: ready() follows the Socket Mode connection (HTTP events: always ready). */
export interface SlackSurface extends Surface {
  /** Socket Mode (SLACK_APP_TOKEN) or HTTP events at /slack/events. */
  readonly mode: "socket" | "http";
  /** The bot's user id and workspace, from auth.test. */
  readonly botUserId: string;
  readonly teamId: string;
  readonly finisher: MessageFinisher;
}

/** The events of @slack/socket-mode's client that readiness follows. */
interface SocketEvents {
  on(event: "connected" | "close" | "disconnected" | "reconnecting", listener: () => void): unknown;
}

/**
 * Starts the Slack adapter: auth.test (bot user id, workspace), then Bolt in
 * Socket Mode when `config.appToken` is set, else an HTTP events route on
 * `options.http` verified with the signing secret.
 */
export async function startSlack(options: SlackOptions): Promise<SlackSurface> {
  const { bot, config } = options;
  const log = options.log.child({ component: "slack" });
  const token = config.botToken;
  if (!token) throw new StartError("slack_no_token", "SLACK_BOT_TOKEN is not set");
  const socketMode = config.appToken !== undefined;
  if (!socketMode && !config.signingSecret) {
    throw new StartError(
      "slack_no_signing_secret",
      "Slack HTTP events need SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)",
    );
  }
  if (!socketMode && !options.http) {
    throw new StartError(
      "slack_no_http_server",
      "Slack HTTP events need the web server (WEB_ENABLED=true), or set SLACK_APP_TOKEN for Socket Mode",
    );
  }

  const sdkLogger = slackLogger(log);
  // Bolt and the Socket Mode client write into the options object; each gets its own.
  const clientOptions = () => webClientOptions(config.apiUrl, sdkLogger);
  const auth = await new webApi.WebClient(token, clientOptions()).auth.test().catch((err: unknown) => {
    const { slackCode } = describeSlackError(err);
    throw new StartError("slack_bad_token", slackTokenRejected(slackCode), { cause: err });
  });
  const botUserId = auth.user_id;
  const teamId = auth.team_id;
  if (!botUserId || !teamId)
    throw new StartError("slack_bad_token", slackTokenRejected("no bot user or workspace in auth.test"));

  const receiver =
    socketMode || !options.http
      ? undefined
      : new FastifyReceiver({
          signingSecret: config.signingSecret ?? "",
          log: log.child({ part: "receiver" }),
          seen: bot.state,
        });
  receiver?.register(options.http as FastifyInstance);
  const app = new App({
    token,
    // Both known, so Bolt skips its own auth.test.
    botUserId,
    botId: auth.bot_id ?? "",
    logger: sdkLogger,
    clientOptions: clientOptions(),
    convoStore: false,
    ...(receiver ? { receiver } : { socketMode: true, appToken: config.appToken }),
  });
  app.error(async (err) => {
    log.error({ err }, "Slack listener failed");
  });
  // Socket Mode: the WebSocket's state is readiness. Bolt keeps its client in the receiver it made.
  let socketUp = !socketMode;
  const socketClient = (app as unknown as { receiver?: { client?: SocketEvents } }).receiver?.client;
  socketClient?.on("connected", () => {
    socketUp = true;
  });
  for (const down of ["close", "disconnected", "reconnecting"] as const) {
    socketClient?.on(down, () => {
      socketUp = false;
    });
  }

  const api = new SlackApi(app.client, log);
  const budgets = options.budgets ?? new EditBudgets({ edits: config.editsPerMinute, perMs: 60_000 });
  const perMinute = (edits: number, tuning: { paceMs?: number; reserved?: number } = {}) =>
    new EditBudgets({ edits, perMs: 60_000, ...tuning });
  const streamBudgets: NativeDeps["budgets"] = {
    start: options.streamBudgets?.start ?? perMinute(STREAM_STARTS_PER_MINUTE),
    // Appends pace themselves per stream (NativeOptions.appendEveryMs), and no append is a final one.
    append: options.streamBudgets?.append ?? perMinute(STREAM_APPENDS_PER_MINUTE, { paceMs: 0, reserved: 0 }),
    stop: options.streamBudgets?.stop ?? perMinute(STREAM_STOPS_PER_MINUTE),
    delete: options.streamBudgets?.delete ?? perMinute(DELETES_PER_MINUTE),
  };
  const deps = {
    bot,
    turns: options.turns,
    api,
    budgets,
    postBudgets: options.postBudgets ?? new EditBudgets({ edits: POSTS_PER_WINDOW, perMs: POST_WINDOW_MS }),
    log,
    cursor: options.cursor,
    botUserId,
    botId: auth.bot_id ?? "",
    teamId,
    requireMention: config.requireMention,
    botToken: token,
    apiUrl: config.apiUrl,
    recovery: options.recovery,
    settings: options.settings,
    access: options.access,
    native: { mode: config.streaming, budgets: streamBudgets, ...options.streamTiming },
    feedback: options.feedback ?? new FeedbackStore(bot.state),
    usage: options.usage,
  };
  registerHandlers(app, deps);
  registerAssistant(app, deps, config.suggestedPrompts);
  registerActions(app, deps);

  await app.start();
  const mode = socketMode ? "socket" : "http";
  log.info(
    { mode, botUserId, teamId, team: auth.team },
    socketMode ? "Slack connected (Socket Mode)" : "Slack events at POST /slack/events",
  );
  let stopped: Promise<void> | undefined;
  return {
    name: "slack",
    mode,
    botUserId,
    teamId,
    ready: async () => socketUp || socketClient === undefined,
    finisher: slackFinisher(api, { edit: budgets, ...streamBudgets }, teamId),
    stop: (graceMs) => {
      stopped ??= (async () => {
        await app.stop().catch((err: unknown) => log.warn({ err }, "Slack stop failed"));
        await options.turns.drain("slack", graceMs);
      })();
      return stopped;
    },
  };
}
