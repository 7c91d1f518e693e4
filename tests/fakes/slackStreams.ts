import type { FakeBlock, FakeSlackWorkspace } from "./slackWorkspace.js";

/** A native stream's state (chat.startStream until chat.stopStream, or until Slack ends it). */
export interface FakeStream {
  /** Outside a DM, the one person who sees it live. */
  recipient?: string;
  startedAt: number;
  open: boolean;
  /** Each markdown_text as it arrived: start, appends, stop. */
  chunks: string[];
}

/**
 * Slack limits each markdown_text to 12,000 characters (per call, not per message).
 * @see https://docs.slack.dev/reference/methods/chat.appendStream
 */
const MARKDOWN_LIMIT = 12_000;

/**
 * The native streaming methods and the assistant pane's methods, answered
 * from the workspace's state the way Slack answers them (errors included);
 * undefined for any other method.
 * @see https://docs.slack.dev/reference/methods/chat.startStream
 * @see https://docs.slack.dev/reference/methods/assistant.threads.setStatus
 */
export function answerStreamMethod(
  ws: FakeSlackWorkspace,
  method: string,
  // biome-ignore lint/suspicious/noExplicitAny: params are whatever the SDK sent
  p: Record<string, any>,
  // biome-ignore lint/suspicious/noExplicitAny: Slack's answers are loose JSON
): Record<string, any> | undefined {
  switch (method) {
    case "chat.startStream": {
      if (!p.channel) return { ok: false, error: "channel_not_found" };
      if (!p.thread_ts) return { ok: false, error: "invalid_thread_ts" };
      const inDm = String(p.channel).startsWith("D");
      if (!inDm && !p.recipient_user_id) return { ok: false, error: "missing_recipient_user_id" };
      if (!inDm && !p.recipient_team_id) return { ok: false, error: "missing_recipient_team_id" };
      const text = markdownOf(p);
      if (text === undefined || text === "") return { ok: false, error: "no_text" };
      if (text.length > MARKDOWN_LIMIT) return { ok: false, error: "msg_too_long" };
      const message = ws.addMessage({
        channel: p.channel,
        text,
        user: ws.botUserId,
        bot_id: ws.botId,
        thread_ts: String(p.thread_ts),
        stream: {
          startedAt: Date.now(),
          open: true,
          chunks: [text],
          ...(inDm ? {} : { recipient: String(p.recipient_user_id) }),
        },
      });
      ws.botPostedIn(p.channel, String(p.thread_ts));
      return { ok: true, channel: p.channel, ts: message.ts };
    }
    case "chat.appendStream": {
      const message = ws.message(p.channel, p.ts);
      if (!message?.stream) return { ok: false, error: "message_not_found" };
      if (!ws.streaming(message)) return { ok: false, error: "message_not_in_streaming_state" };
      const text = markdownOf(p);
      if (!text) return { ok: false, error: "no_text" };
      if (text.length > MARKDOWN_LIMIT) return { ok: false, error: "msg_too_long" };
      message.stream.chunks.push(text);
      message.text += text;
      return { ok: true, channel: p.channel, ts: p.ts };
    }
    case "chat.stopStream": {
      const message = ws.message(p.channel, p.ts);
      if (!message?.stream) return { ok: false, error: "message_not_found" };
      if (!ws.streaming(message)) return { ok: false, error: "message_not_in_streaming_state" };
      const text = markdownOf(p) ?? "";
      if (text.length > MARKDOWN_LIMIT) return { ok: false, error: "msg_too_long" };
      const blocks: FakeBlock[] | undefined = Array.isArray(p.blocks) ? p.blocks : undefined;
      if (blocks && blocks.length > 50) return { ok: false, error: "invalid_blocks" };
      if (text) {
        message.stream.chunks.push(text);
        message.text += text;
      }
      if (blocks && blocks.length > 0) message.blocks = blocks;
      message.stream.open = false;
      return { ok: true, channel: p.channel, ts: p.ts, message: ws.wire(message) };
    }
    case "assistant.threads.setStatus": {
      if (!p.channel_id) return { ok: false, error: "channel_not_found" };
      if (!p.thread_ts) return { ok: false, error: "invalid_thread_ts" };
      if (typeof p.status !== "string") return { ok: false, error: "invalid_arguments" };
      const thread = ws.thread(p.channel_id, String(p.thread_ts));
      thread.status = p.status;
      thread.statuses.push(p.status);
      return { ok: true };
    }
    case "assistant.threads.setTitle": {
      if (!p.channel_id) return { ok: false, error: "channel_not_found" };
      if (!p.thread_ts) return { ok: false, error: "invalid_thread_ts" };
      ws.thread(p.channel_id, String(p.thread_ts)).title = String(p.title ?? "");
      return { ok: true };
    }
    case "assistant.threads.setSuggestedPrompts": {
      if (!p.channel_id) return { ok: false, error: "channel_not_found" };
      const prompts = Array.isArray(p.prompts) ? p.prompts : [];
      // Slack shows up to four prompts, each with a title and a message.
      if (prompts.length === 0 || prompts.length > 4) return { ok: false, error: "invalid_arguments" };
      if (!prompts.every((x: { title?: unknown; message?: unknown }) => x.title && x.message))
        return { ok: false, error: "invalid_arguments" };
      ws.thread(p.channel_id, String(p.thread_ts ?? "")).prompts = prompts;
      return { ok: true };
    }
    default:
      return undefined;
  }
}

/** The Markdown of a streaming call: `markdown_text`, or its markdown_text chunks. */
// biome-ignore lint/suspicious/noExplicitAny: params are whatever the SDK sent
function markdownOf(p: Record<string, any>): string | undefined {
  if (typeof p.markdown_text === "string") return p.markdown_text;
  if (Array.isArray(p.chunks)) {
    const texts = p.chunks
      .filter((c: { type?: string }) => c.type === "markdown_text")
      .map((c: { text?: string }) => c.text ?? "");
    return texts.length > 0 ? texts.join("") : undefined;
  }
  return undefined;
}
