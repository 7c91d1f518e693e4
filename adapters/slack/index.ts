import { App, webApi } from "@slack/bolt";
import type { FastifyInstance } from "fastify";
import type { Bot } from "../../src/bot.js";
import type { Config } from "../../src/config.js";
import type { Logger } from "../../src/log.js";
import type { Finisher, InflightMessages } from "../../src/memory/inflight.js";
import type { EditBudgetSource } from "../../src/memory/shared-budget.js";
import { EditBudgets } from "../../src/stream/index.js";
import { describeSlackError, SlackApi, slackLogger, webClientOptions } from "./api.js";
import { registerHandlers } from "./handlers.js";
import { FastifyReceiver } from "./receiver.js";
import { SlackReply } from "./reply.js";
import { TurnTracker } from "./turns.js";

export { SlackApiError } from "./api.js";
export { SlackSignatureError } from "./receiver.js";

/** Slack cannot start: a token is missing or rejected, or HTTP mode has no server. */
export class SlackStartError extends Error {
  readonly code = "slack_start";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "SlackStartError";
  }
}

export interface SlackOptions {
  bot: Bot;
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
  /** Remembers messages being streamed, so a crash never leaves a cursor (src/memory/inflight.ts). */
  inflight?: InflightMessages;
}

export interface SlackHandle {
  /** Socket Mode (SLACK_APP_TOKEN) or HTTP events at /slack/events. */
  readonly mode: "socket" | "http";
  /** The bot's user id and workspace, from auth.test. */
  readonly botUserId: string;
  readonly teamId: string;
  /**
   * Stops taking events, then waits for answers being streamed. Answers still
   * running after `graceMs` (default 10,000) are stopped with a final edit.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Edits a message another process left streaming to its final text (for InflightMessages.sweep). */
  finishMessage: Finisher;
  /** Whether Slack can reach the bot now: Socket Mode connected (HTTP events: always). */
  ready(): Promise<boolean>;
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
export async function startSlack(options: SlackOptions): Promise<SlackHandle> {
  const { bot, config } = options;
  const log = options.log.child({ component: "slack" });
  const token = config.botToken;
  if (!token) throw new SlackStartError("SLACK_BOT_TOKEN is not set");
  const socketMode = config.appToken !== undefined;
  if (!socketMode && !config.signingSecret) {
    throw new SlackStartError(
      "Slack HTTP events need SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)",
    );
  }
  if (!socketMode && !options.http) throw new SlackStartError("Slack HTTP events need the web server");

  const sdkLogger = slackLogger(log);
  // Bolt and the Socket Mode client write into the options object; each gets its own.
  const clientOptions = () => webClientOptions(config.apiUrl, sdkLogger);
  const auth = await new webApi.WebClient(token, clientOptions()).auth.test().catch((err: unknown) => {
    const { slackCode } = describeSlackError(err);
    throw new SlackStartError(`Slack rejected SLACK_BOT_TOKEN (auth.test: ${slackCode})`, { cause: err });
  });
  const botUserId = auth.user_id;
  const teamId = auth.team_id;
  if (!botUserId || !teamId)
    throw new SlackStartError("Slack auth.test did not name the bot user and workspace");

  const receiver =
    socketMode || !options.http
      ? undefined
      : new FastifyReceiver({
          signingSecret: config.signingSecret ?? "",
          log: log.child({ part: "receiver" }),
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

  const turns = new TurnTracker(log);
  const api = new SlackApi(app.client, log);
  registerHandlers(
    app,
    {
      bot,
      api,
      budgets: options.budgets ?? new EditBudgets({ edits: config.editsPerMinute, perMs: 60_000 }),
      postBudgets: new EditBudgets({ edits: 3, perMs: 3_000 }),
      log,
      cursor: options.cursor,
      botUserId,
      botId: auth.bot_id ?? "",
      teamId,
      requireMention: config.requireMention,
      inflight: options.inflight,
    },
    turns,
  );

  await app.start();
  const mode = socketMode ? "socket" : "http";
  log.info(
    { mode, botUserId, teamId, team: auth.team },
    socketMode ? "Slack connected (Socket Mode)" : "Slack events at POST /slack/events",
  );
  let stopped: Promise<void> | undefined;
  const finishBudgets = new EditBudgets({ edits: config.editsPerMinute, perMs: 60_000 });
  return {
    mode,
    botUserId,
    teamId,
    ready: async () => socketUp || socketClient === undefined,
    finishMessage: async (location, text) => {
      const channel = location.channel ?? "";
      await new SlackReply(api, channel, undefined, finishBudgets.get(teamId), log).edit(
        { id: location.ts ?? "" },
        text,
      );
    },
    stop: ({ graceMs = 10_000 } = {}) => {
      stopped ??= (async () => {
        await app.stop().catch((err: unknown) => log.warn({ err }, "Slack stop failed"));
        await turns.drain(graceMs);
      })();
      return stopped;
    },
  };
}
