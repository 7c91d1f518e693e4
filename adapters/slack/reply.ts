import type { EditableReply, EditBudget, MessageRef, Update } from "../../src/stream/index.js";
import type { SlackApi } from "./api.js";
import { type Controls, messageBlocks, SLACK_SECTION_LIMIT } from "./blocks.js";
import { toMrkdwn } from "./format.js";

/**
 * The longest plain text the bot sends in one message (warnings, crash
 * recovery's final edit). Slack truncates `text` past 40,000 characters and
 * refuses a `chat.update` longer than about 4,000 with `msg_too_long`.
 * @see https://api.slack.com/methods/chat.postMessage#truncating
 * @see https://api.slack.com/methods/chat.update#errors
 */
export const SLACK_TEXT_LIMIT = 4_000;

/**
 * One streamed answer in one Slack thread (or DM), by editing: posts with
 * chat.postMessage and edits with chat.update what the renderer rendered
 * (mrkdwn, via `render`), drawing on the workspace's edit budget and the
 * channel's post budget. The text sits in a section block (so at most
 * SLACK_SECTION_LIMIT, which the renderer splits at) with the answer's
 * controls under it: Stop while it is written, 👍/👎 once it is done. The same
 * text goes as `text`, Slack's fallback for notifications.
 */
export class SlackReply implements EditableReply {
  readonly maxChars = SLACK_SECTION_LIMIT;

  constructor(
    private readonly api: SlackApi,
    private readonly channel: string,
    private readonly threadTs: string | undefined,
    readonly budget: EditBudget,
    /** chat.postMessage is limited per channel, apart from chat.update's workspace budget. */
    readonly postBudget?: EditBudget,
    /** The turn and conversation the buttons refer to; none: a plain message. */
    private readonly controls?: Controls,
  ) {}

  render(markdown: string): string {
    return toMrkdwn(markdown);
  }

  async post(text: string, update: Update): Promise<MessageRef> {
    const ts = await this.api.postMessage({
      channel: this.channel,
      text,
      blocks: messageBlocks(text, update, this.controls),
      ...(this.threadTs ? { thread_ts: this.threadTs } : {}),
    });
    return { id: ts };
  }

  async edit(ref: MessageRef, text: string, update: Update): Promise<void> {
    await this.api.update({
      channel: this.channel,
      ts: ref.id,
      text,
      blocks: messageBlocks(text, update, this.controls),
    });
  }
}
