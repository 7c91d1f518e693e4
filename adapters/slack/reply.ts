import type { Logger } from "../../src/log.js";
import { splitMessage } from "../../src/stream/split.js";
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
    /** chat.postMessage is limited per channel, apart from chat.update's workspace budget. */
    readonly postBudget?: EditBudget,
  ) {}

  /** A post failed for good (not a rate limit): a part of the answer never appeared. */
  postFailed = false;

  /** Continuation messages of a message whose formatted text outgrew SLACK_TEXT_LIMIT, by its ts. */
  private readonly overflow = new Map<string, string[]>();

  async post(text: string): Promise<MessageRef> {
    const [first = "", ...rest] = this.format(text);
    try {
      const ts = await this.api.postMessage({
        channel: this.channel,
        text: first,
        ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
      });
      await this.syncOverflow(ts, rest);
      return { id: ts };
    } catch (err) {
      if (!(err instanceof PlatformRateLimitError)) this.postFailed = true;
      throw err;
    }
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    const [first = "", ...rest] = this.format(text);
    await this.api.update({ channel: this.channel, ts: ref.id, text: first });
    await this.syncOverflow(ref.id, rest);
  }

  /**
   * Markdown as mrkdwn, in pieces Slack accepts. The renderer splits the
   * Markdown at `maxChars`, but mrkdwn can be longer (`&` is sent as `&amp;`):
   * what does not fit goes to continuation messages rather than being lost.
   */
  private format(markdown: string): string[] {
    const text = toMrkdwn(markdown);
    if (text.length <= SLACK_TEXT_LIMIT) return [text];
    this.log.info(
      { chars: text.length },
      "formatted Slack text is over the limit; continuing in another message",
    );
    return splitMessage(text, SLACK_TEXT_LIMIT);
  }

  /** Keeps a message's continuation messages in step with its text (rare: see format). */
  private async syncOverflow(ts: string, rest: string[]): Promise<void> {
    const extra = this.overflow.get(ts) ?? [];
    if (rest.length === 0 && extra.length === 0) return;
    for (let i = 0; i < Math.max(rest.length, extra.length); i++) {
      // A continuation no longer needed keeps an invisible character: Slack refuses empty text.
      const piece = rest[i] ?? "\u200B";
      const existing = extra[i];
      if (existing) await this.api.update({ channel: this.channel, ts: existing, text: piece });
      else
        extra.push(
          await this.api.postMessage({
            channel: this.channel,
            text: piece,
            ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
          }),
        );
    }
    this.overflow.set(ts, extra);
  }
}
