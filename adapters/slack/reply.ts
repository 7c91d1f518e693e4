import type { EditableReply, EditBudget, MessageRef } from "../../src/stream/index.js";
import type { SlackApi } from "./api.js";
import { toMrkdwn } from "./format.js";

/**
 * The longest text the bot sends in one message. Slack truncates `text` past
 * 40,000 characters and refuses a `chat.update` longer than about 4,000 with
 * `msg_too_long`; the renderer measures parts after conversion to mrkdwn, so
 * every message fits.
 * @see https://api.slack.com/methods/chat.postMessage#truncating
 * @see https://api.slack.com/methods/chat.update#errors
 */
export const SLACK_TEXT_LIMIT = 4_000;

/**
 * One streamed answer in one Slack thread (or DM): posts with
 * chat.postMessage and edits with chat.update what the renderer rendered
 * (mrkdwn, via `render`), drawing on the workspace's edit budget and the
 * channel's post budget.
 */
export class SlackReply implements EditableReply {
  readonly maxChars = SLACK_TEXT_LIMIT;

  constructor(
    private readonly api: SlackApi,
    private readonly channel: string,
    private readonly threadTs: string | undefined,
    readonly budget: EditBudget,
    /** chat.postMessage is limited per channel, apart from chat.update's workspace budget. */
    readonly postBudget?: EditBudget,
  ) {}

  render(markdown: string): string {
    return toMrkdwn(markdown);
  }

  async post(text: string): Promise<MessageRef> {
    const ts = await this.api.postMessage({
      channel: this.channel,
      text,
      ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
    });
    return { id: ts };
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    await this.api.update({ channel: this.channel, ts: ref.id, text });
  }
}
