import type { MessageFinisher } from "../../src/replicas/index.js";
import { type EditBudgetSource, sendFinal } from "../../src/stream/index.js";
import type { SlackApi } from "./api.js";
import { toMrkdwn } from "./format.js";
import { SLACK_TEXT_LIMIT } from "./reply.js";

/**
 * How crash recovery finishes the Slack messages a dead process left, by the
 * kind the reply recorded: an edited message gets its final text and loses
 * its Stop button; a native stream is stopped, then given the same final text
 * (Slack may already have ended it); a Stop control is deleted. Every call
 * draws on the workspace's live budget of its method, at final priority.
 */
export function slackFinisher(
  api: SlackApi,
  budgets: { edit: EditBudgetSource; stop: EditBudgetSource; delete: EditBudgetSource },
  defaultTeam: string,
): MessageFinisher {
  return {
    maxChars: SLACK_TEXT_LIMIT,
    render: toMrkdwn,
    // The bot token reaches its own workspace only; another workspace's messages wait for its bot.
    owns: (location) => (location.team ?? defaultTeam) === defaultTeam,
    finish: async (location, text) => {
      const team = location.team ?? defaultTeam;
      const channel = location.channel ?? "";
      const ts = location.ts ?? "";
      if (location.kind === "control") {
        await sendFinal(budgets.delete.get(team), () => api.delete(channel, ts));
        return;
      }
      if (location.kind === "stream") {
        // Ends the stream if Slack has not yet; "not in streaming state" means it already did.
        await sendFinal(budgets.stop.get(team), () => api.stopStream({ channel, ts })).catch(() => undefined);
      }
      await sendFinal(budgets.edit.get(team), () => api.update({ channel, ts, text, blocks: [] }));
    },
  };
}
