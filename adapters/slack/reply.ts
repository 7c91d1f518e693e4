import type { Logger } from "../../src/log.js";
import {
  type EditableReply,
  type EditBudget,
  type MessageRef,
  PlatformRateLimitError,
} from "../../src/stream/types.js";
import type { SlackApi } from "./api.js";
import { toMrkdwn } from "./format.js";

/**
 * Slack rejects longer text with `msg_too_long`; kept below the ~4,000
 * characters chat.update accepts after formatting.
 */
export const SLACK_TEXT_LIMIT = 4_000;

/**
 * Markdown characters per message. mrkdwn can be longer than its Markdown
 * (`&` becomes `&amp;`, list bullets gain spaces), so the renderer splits well
 * below SLACK_TEXT_LIMIT.
 */
export const SLACK_MAX_CHARS = 3_500;

/**
 * One streamed answer in one Slack thread (or DM): posts with
 * chat.postMessage, edits with chat.update, formats Markdown as mrkdwn on the
 * way out, and draws on the workspace's edit budget.
 */
export class SlackReply implements EditableReply {
  readonly maxChars = SLACK_MAX_CHARS;

  constructor(
    private readonly api: SlackApi,
    private readonly channel: string,
    private readonly threadTs: string | undefined,
    readonly budget: EditBudget,
    private readonly log: Logger,
  ) {}

  /** A post failed for good (not a rate limit): a part of the answer never appeared. */
  postFailed = false;

  async post(text: string): Promise<MessageRef> {
    try {
      const ts = await this.api.postMessage({
        channel: this.channel,
        text: this.format(text),
        ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
      });
      return { id: ts };
    } catch (err) {
      if (!(err instanceof PlatformRateLimitError)) this.postFailed = true;
      throw err;
    }
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    await this.api.update({ channel: this.channel, ts: ref.id, text: this.format(text) });
  }

  private format(markdown: string): string {
    const text = toMrkdwn(markdown);
    if (text.length <= SLACK_TEXT_LIMIT) return text;
    // Only text dense with &, < or > grows this much; a cut message beats a rejected edit.
    this.log.warn({ chars: text.length }, "formatted Slack message too long; cutting it");
    return `${text.slice(0, SLACK_TEXT_LIMIT - 1)}…`;
  }
}
