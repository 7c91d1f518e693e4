import type { App, BlockAction, ButtonAction, FeedbackButtonsAction } from "@slack/bolt";
import type { FeedbackValue } from "../../src/feedback/index.js";
import { STOP_TOO_LATE, stopRefused } from "../../src/texts.js";
import type { Presser, StopOutcome } from "../../src/turn/index.js";
import type { SlackDeps } from "./answer.js";
import { registerApprovalActions } from "./approval.js";
import { conversationOfFeedback, FEEDBACK_ACTION, STOP_ACTION } from "./blocks.js";

/**
 * The buttons of the bot's answers, pressed in Socket Mode or posted to
 * /slack/events (signed like events): acknowledged at once, since Slack
 * wants an answer within 3 s, then handled.
 * @see https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response
 */
export function registerActions(app: App, d: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(STOP_ACTION, async ({ ack, body, action }) => {
    await ack();
    await onStop(d, body, action.value ?? "");
  });
  app.action<BlockAction<FeedbackButtonsAction>>(FEEDBACK_ACTION, async ({ ack, body, action }) => {
    await ack();
    await onFeedback(d, body, action);
  });
  registerApprovalActions(app, d);
}

/**
 * Stop: the asker or a workspace admin ends the answer (the core aborts the
 * model request; the message ends with "Stopped by <name>."); anyone else is
 * told, only to them, who can.
 */
async function onStop(d: SlackDeps, body: BlockAction<ButtonAction>, turnId: string): Promise<void> {
  const userId = body.user.id;
  // The asker is the common case: their name is usually cached, and they need no admin check.
  const presser: Presser = { id: userId, name: await d.api.userName(userId), isAdmin: false };
  let outcome: StopOutcome = await d.turns.stop(turnId, presser);
  if (outcome.outcome === "refused" && (await d.api.user(userId, { fresh: true })).isAdmin) {
    outcome = await d.turns.stop(turnId, { ...presser, isAdmin: true });
  }
  d.log.info({ turnId, user: userId, outcome: outcome.outcome }, "Stop pressed");
  if (outcome.outcome === "stopped") return;
  const text = outcome.outcome === "refused" ? stopRefused(`<@${outcome.askedBy.id}>`) : STOP_TOO_LATE;
  const channel = body.channel?.id ?? String(body.container.channel_id ?? "");
  const threadTs = body.message?.thread_ts ?? body.container.thread_ts;
  await d.api
    .postEphemeral({ channel, user: userId, text, ...(threadTs ? { thread_ts: String(threadTs) } : {}) })
    .catch(() => undefined);
}

/** 👍/👎: one vote per person per answer message, changed by pressing the other; stored, counted, logged. */
async function onFeedback(
  d: SlackDeps,
  body: BlockAction<FeedbackButtonsAction>,
  action: FeedbackButtonsAction,
): Promise<void> {
  const value = action.value;
  const conversationId = conversationOfFeedback(action.block_id);
  const channel = body.channel?.id ?? String(body.container.channel_id ?? "");
  const ts = body.message?.ts ?? String(body.container.message_ts ?? "");
  if ((value !== "up" && value !== "down") || !conversationId || !channel || !ts) {
    d.log.warn({ value, blockId: action.block_id }, "ignored a feedback press that is not the bot's");
    return;
  }
  const vote = {
    platform: "slack",
    conversationId,
    messageId: `${channel}:${ts}`,
    userId: body.user.id,
    value: value as FeedbackValue,
    at: Date.now(),
  };
  const previous = await d.feedback.record(vote);
  d.log.info({ ...vote, previous }, previous ? "feedback vote changed" : "feedback vote");
}
