import type { types } from "@slack/bolt";
import type { Update } from "../../src/stream/index.js";

/** A Block Kit block as Slack's types describe it. */
export type SlackBlock = types.KnownBlock;

/** The action ids of the bot's controls; actions.ts listens for them. */
export const STOP_ACTION = "chatbot_stop";
export const FEEDBACK_ACTION = "chatbot_feedback";
/** Feedback blocks carry the conversation in their block_id: `chatbot_feedback|<conversation id>`. */
const FEEDBACK_BLOCK_PREFIX = `${FEEDBACK_ACTION}|`;

/**
 * The longest text of a section block; the bot's streamed messages hold their
 * text in one, so the renderer splits at this length (after conversion to mrkdwn).
 * @see https://docs.slack.dev/reference/block-kit/blocks/section-block#fields
 */
export const SLACK_SECTION_LIMIT = 3_000;

/** What the controls of one answer refer to. */
export interface Controls {
  /** The running turn (TurnTracker): a Stop press names it. */
  turnId: string;
  /** Where a feedback vote is stored. */
  conversationId: string;
}

/** The Stop button of a running answer; its value names the turn. */
export function stopBlock(turnId: string): SlackBlock {
  return {
    type: "actions",
    block_id: `${STOP_ACTION}|${turnId}`,
    elements: [
      {
        type: "button",
        action_id: STOP_ACTION,
        text: { type: "plain_text", text: "⏹ Stop", emoji: true },
        value: turnId,
        accessibility_label: "Stop writing this answer",
      },
    ],
  };
}

/**
 * 👍/👎 under a finished answer: Slack's feedback buttons element, which must
 * sit in a context actions block.
 * @see https://docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element
 * @see https://docs.slack.dev/reference/block-kit/blocks/context-actions-block
 */
export function feedbackBlock(conversationId: string): SlackBlock {
  return {
    type: "context_actions",
    block_id: `${FEEDBACK_BLOCK_PREFIX}${conversationId}`,
    elements: [
      {
        type: "feedback_buttons",
        action_id: FEEDBACK_ACTION,
        positive_button: {
          text: { type: "plain_text", text: "👍" },
          value: "up",
          accessibility_label: "This answer was helpful",
        },
        negative_button: {
          text: { type: "plain_text", text: "👎" },
          value: "down",
          accessibility_label: "This answer was not helpful",
        },
      },
    ],
  } as SlackBlock;
}

/** The conversation id a feedback block carries, from the block_id of a press. */
export function conversationOfFeedback(blockId: string | undefined): string | undefined {
  return blockId?.startsWith(FEEDBACK_BLOCK_PREFIX) ? blockId.slice(FEEDBACK_BLOCK_PREFIX.length) : undefined;
}

/**
 * The blocks of an edited message: its text (mrkdwn, already rendered) in a
 * section, then Stop while it is still written, or feedback on the last
 * message of an answer the model finished. A message closed at a split, or
 * ended by an error or a stop, carries no control.
 */
export function messageBlocks(text: string, update: Update, controls: Controls | undefined): SlackBlock[] {
  const section: SlackBlock = { type: "section", text: { type: "mrkdwn", text } };
  if (!controls) return [section];
  if (!update.final) return [section, stopBlock(controls.turnId)];
  if (update.last && update.error === undefined) return [section, feedbackBlock(controls.conversationId)];
  return [section];
}
