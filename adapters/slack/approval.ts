import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { ApprovalQuestion, AskApproval } from "../../src/tools/index.js";
import type { Place, SlackDeps } from "./answer.js";
import type { SlackBlock } from "./blocks.js";

/** The action ids of the Approve and Deny buttons; their value is the question's id. */
export const APPROVE_ACTION = "chatbot_tool_approve";
export const DENY_ACTION = "chatbot_tool_deny";

/** Slack's longest text of a section block; the arguments shown are cut well before it. */
const ARGS_SHOWN_CHARS = 1_500;

/**
 * How a Slack turn asks its asker to approve a tool that may change things:
 * a message in the thread with Approve and Deny, replaced by the outcome once
 * the question is settled (chat.update with no blocks: the buttons go).
 */
export function slackApproval(d: SlackDeps, place: Place): AskApproval {
  return async (q) => {
    const text = questionText(q);
    const ts = await d.api.postMessage({
      channel: place.channel,
      text,
      blocks: questionBlocks(q, text),
      ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
    });
    return async (outcome) => {
      await d.api.update({ channel: place.channel, ts, text: outcome, blocks: [] });
    };
  };
}

/** Approve/Deny presses: only the asker's count; anyone else is told so, only to them. */
export function registerApprovalActions(app: App, d: SlackDeps): void {
  for (const [action, approve] of [
    [APPROVE_ACTION, true],
    [DENY_ACTION, false],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(action, async ({ ack, body, action: pressed }) => {
      await ack();
      const userId = body.user.id;
      const name = await d.api.userName(userId);
      const result = (await d.bot.approvals?.answer(pressed.value ?? "", userId, name, approve)) ?? "unknown";
      d.log.info({ question: pressed.value, user: userId, approve, result }, "tool approval pressed");
      if (result === "settled") return;
      const channel = body.channel?.id ?? String(body.container.channel_id ?? "");
      const threadTs = body.message?.thread_ts ?? body.container.thread_ts;
      await d.api
        .postEphemeral({
          channel,
          user: userId,
          text:
            result === "not-yours"
              ? "Only the person who asked can approve or deny this."
              : "This question is no longer open.",
          ...(threadTs ? { thread_ts: String(threadTs) } : {}),
        })
        .catch(() => undefined);
    });
  }
}

function questionText(q: ApprovalQuestion): string {
  let args = JSON.stringify(q.args);
  if (args.length > ARGS_SHOWN_CHARS) args = `${args.slice(0, ARGS_SHOWN_CHARS)}…`;
  return `🔧 <@${q.askerId}>, may I run *${q.tool}* (${q.server})? It may change things.\n\`\`\`${args}\`\`\``;
}

function questionBlocks(q: ApprovalQuestion, text: string): SlackBlock[] {
  return [
    { type: "section", text: { type: "mrkdwn", text } },
    {
      type: "actions",
      block_id: `chatbot_tool|${q.id}`,
      elements: [
        {
          type: "button",
          action_id: APPROVE_ACTION,
          style: "primary",
          text: { type: "plain_text", text: "Approve" },
          value: q.id,
        },
        {
          type: "button",
          action_id: DENY_ACTION,
          style: "danger",
          text: { type: "plain_text", text: "Deny" },
          value: q.id,
        },
      ],
    },
  ];
}
