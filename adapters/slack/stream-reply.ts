import type { EditableReply, EditBudget, MessageRef, Update } from "../../src/stream/index.js";
import { type SlackApi, SlackApiError } from "./api.js";
import { type Controls, feedbackBlock, SLACK_SECTION_LIMIT, stopBlock } from "./blocks.js";
import { neutraliseGroupMentions } from "./format.js";

/**
 * The longest text the bot puts in one native stream before it continues in
 * a new message. Slack takes up to 12,000 characters of `markdown_text` per
 * call and does not say how long a streamed message may grow; the bot keeps
 * one as long as an edited message (a section block's 3,000), so crash
 * recovery can always rewrite it whole with chat.update (4,000 characters,
 * room for mrkdwn's escapes).
 * @see https://docs.slack.dev/reference/methods/chat.appendStream
 * @see https://docs.slack.dev/reference/methods/chat.update#errors
 */
export const STREAM_TEXT_LIMIT = SLACK_SECTION_LIMIT;

/** Where one answer's native stream goes. */
export interface StreamPlace {
  channel: string;
  /** Streams are always thread replies (Slack: "replies to a user request"). */
  threadTs: string;
  /** Outside a DM, the one person who sees the stream live (everyone else sees the first chunk until it stops). */
  recipient?: { userId: string; teamId: string };
}

/**
 * One answer as Slack native streams, shaped as an EditableReply so crash
 * recovery can wrap it like any reply: `post` starts a stream
 * (chat.startStream), `edit` with a longer text appends the difference
 * (chat.appendStream), and a final `edit` stops it (chat.stopStream) with
 * the last of the text and, under a finished answer, the feedback buttons.
 * Texts are Markdown (Slack renders `markdown_text` itself); every text the
 * native renderer sends extends the one before.
 */
export class StreamReply implements EditableReply {
  readonly maxChars = STREAM_TEXT_LIMIT;
  /** What each message shows so far (its stream's text). */
  private readonly sent = new Map<string, string>();
  /** Streams Slack said are over (expired, or stopped by the person reading). */
  private readonly gone = new Set<string>();

  constructor(
    private readonly api: SlackApi,
    private readonly place: StreamPlace,
    /** chat.appendStream's budget (the renderer draws on the others itself). */
    readonly budget: EditBudget,
    private readonly controls?: Controls,
  ) {}

  render(markdown: string): string {
    return neutraliseGroupMentions(markdown);
  }

  async post(text: string): Promise<MessageRef> {
    const ts = await this.api.startStream({
      channel: this.place.channel,
      thread_ts: this.place.threadTs,
      markdown_text: text,
      ...(this.place.recipient
        ? { recipient_user_id: this.place.recipient.userId, recipient_team_id: this.place.recipient.teamId }
        : {}),
    });
    this.sent.set(ts, text);
    return { id: ts };
  }

  async edit(ref: MessageRef, text: string, update: Update): Promise<void> {
    const before = this.sent.get(ref.id) ?? "";
    if (!text.startsWith(before))
      throw new Error("a native stream only grows: the new text must extend the old");
    const delta = text.slice(before.length);
    if (update.final) {
      // Slack already ended this stream, showing what it had: with nothing to add, it is done.
      if (this.gone.has(ref.id) && !delta) return this.forget(ref.id);
      const feedback = update.last && update.error === undefined && this.controls;
      await this.watch(ref.id, () =>
        this.api.stopStream({
          channel: this.place.channel,
          ts: ref.id,
          ...(delta ? { markdown_text: delta } : {}),
          ...(feedback ? { blocks: [feedbackBlock(this.controls.conversationId)] } : {}),
        }),
      );
      return this.forget(ref.id);
    }
    if (!delta) return;
    await this.watch(ref.id, () =>
      this.api.appendStream({ channel: this.place.channel, ts: ref.id, markdown_text: delta }),
    );
    this.sent.set(ref.id, text);
  }

  /** Notes a stream Slack says is over. */
  private async watch(ts: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (err instanceof SlackApiError && STREAM_GONE.has(err.slackCode)) this.gone.add(ts);
      throw err;
    }
  }

  private forget(ts: string): void {
    this.sent.delete(ts);
    this.gone.delete(ts);
  }
}

/** Slack errors meaning a stream is over: it cannot be appended to or stopped any more. */
export const STREAM_GONE = new Set([
  "message_not_in_streaming_state",
  "stopped_by_user",
  "message_not_found",
]);

/**
 * The Stop button of a native stream: a stream cannot carry a control it
 * could later remove, so the button is a small message of its own under the
 * stream, deleted when the answer ends. Shaped as an EditableReply (post it;
 * a final edit deletes it) so crash recovery removes it too.
 */
export class StopControl implements EditableReply {
  readonly maxChars = 100;

  constructor(
    private readonly api: SlackApi,
    private readonly channel: string,
    private readonly threadTs: string,
    private readonly turnId: string,
    /** chat.postMessage's budget of the channel. */
    readonly budget: EditBudget,
    /** chat.delete's budget of the workspace. */
    private readonly deleteBudget: EditBudget,
  ) {}

  async post(): Promise<MessageRef> {
    const ts = await this.api.postMessage({
      channel: this.channel,
      thread_ts: this.threadTs,
      text: "Writing an answer…",
      blocks: [stopBlock(this.turnId)],
    });
    return { id: ts };
  }

  async edit(ref: MessageRef, _text: string, update: Update): Promise<void> {
    if (!update.final) return;
    await this.deleteBudget.acquire(undefined, "final");
    await this.api.delete(this.channel, ref.id);
  }
}
