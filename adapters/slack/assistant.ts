import type { App } from "@slack/bolt";
import type { StreamItem } from "../../src/stream/index.js";
import type { Place, SlackDeps } from "./answer.js";

/**
 * Slack's AI-app surface: the assistant pane (a thread per chat, in the
 * app's DM) with suggested prompts, a thread title and a "thinking" status.
 * Each of these calls is made at most once or twice per question, far below
 * its tier (setStatus: about one call per second per DM; setTitle and
 * setSuggestedPrompts: Tier 4), and only changes how the pane looks: a
 * refusal is logged (by SlackApi) and the answer goes on.
 * @see https://docs.slack.dev/reference/methods/assistant.threads.setStatus
 * @see https://docs.slack.dev/reference/methods/assistant.threads.setTitle
 * @see https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
 */

/** What the bot remembers of an assistant thread: who opened it, and the channel they were viewing. */
interface AssistantThread {
  userId: string;
  /** The channel the person looked at when they opened the pane (or moved to since); Slack's `context`. */
  contextChannel?: string;
}

/** How long the bot knows a thread as the assistant pane's (as long as it follows threads it answered in). */
const ASSISTANT_TTL_MS = 30 * 24 * 3_600_000;
/** The status shown from a question until the first token. */
export const THINKING_STATUS = "is thinking…";
/** Slack cuts longer titles; the first question's first line, this long at most. */
const TITLE_CHARS = 80;

/** The payload part of assistant_thread_started and assistant_thread_context_changed. */
interface AssistantThreadEvent {
  assistant_thread?: {
    user_id?: string;
    channel_id?: string;
    thread_ts?: string;
    context?: { channel_id?: string; team_id?: string };
  };
}

/**
 * assistant_thread_started: remember the thread as the pane's (its own
 * conversation, like any DM thread) and offer the suggested prompts;
 * assistant_thread_context_changed: remember where the person is now.
 * @see https://docs.slack.dev/reference/events/assistant_thread_started
 * @see https://docs.slack.dev/reference/events/assistant_thread_context_changed
 */
export function registerAssistant(app: App, d: SlackDeps, suggestedPrompts: string[]): void {
  app.event("assistant_thread_started", async ({ event, context }) => {
    const thread = (event as AssistantThreadEvent).assistant_thread;
    if (!thread?.channel_id || !thread.thread_ts || !thread.user_id) return;
    const team = context.teamId ?? d.teamId;
    await remember(d, team, thread.channel_id, thread.thread_ts, {
      userId: thread.user_id,
      ...(thread.context?.channel_id ? { contextChannel: thread.context.channel_id } : {}),
    });
    d.log.debug({ channel: thread.channel_id, threadTs: thread.thread_ts }, "assistant thread started");
    if (suggestedPrompts.length > 0)
      await d.api
        .setSuggestedPrompts(thread.channel_id, thread.thread_ts, suggestedPrompts)
        .catch(() => undefined);
  });
  app.event("assistant_thread_context_changed", async ({ event, context }) => {
    const thread = (event as AssistantThreadEvent).assistant_thread;
    if (!thread?.channel_id || !thread.thread_ts || !thread.user_id) return;
    await remember(d, context.teamId ?? d.teamId, thread.channel_id, thread.thread_ts, {
      userId: thread.user_id,
      ...(thread.context?.channel_id ? { contextChannel: thread.context.channel_id } : {}),
    });
  });
}

/** Whether a DM thread is one of the assistant pane's. */
export async function isAssistantThread(
  d: SlackDeps,
  team: string,
  channel: string,
  threadTs: string,
): Promise<boolean> {
  return (await d.bot.state.get<AssistantThread>(threadKey(team, channel, threadTs))) !== undefined;
}

/**
 * A question arrived: the thread shows "is thinking…" until the answer's
 * first text (Slack clears it when the bot posts), and an assistant thread
 * is titled after its first question.
 */
export async function onQuestion(
  d: SlackDeps,
  place: Place,
  question: string,
  native: boolean,
): Promise<void> {
  const threadTs = place.threadTs;
  if (!threadTs || (!place.assistant && !native)) return;
  const status = d.api.setStatus(place.channel, threadTs, THINKING_STATUS).catch(() => undefined);
  if (
    place.assistant &&
    (await d.bot.state.claim(`slack:assistant-title:${place.conversationId}`, ASSISTANT_TTL_MS))
  ) {
    const title = question.split("\n")[0]?.trim().slice(0, TITLE_CHARS) ?? "";
    if (title) await d.api.setTitle(place.channel, threadTs, title).catch(() => undefined);
  }
  await status;
}

/**
 * The model's deltas, the first one held until the "thinking" status has
 * been set: the model is asked at once, but its first text never reaches
 * Slack before the status, which would then show under an answer already
 * being written.
 */
export async function* afterStatus<T>(
  status: Promise<void>,
  deltas: AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  const iterator = deltas[Symbol.asyncIterator]();
  let next = iterator.next();
  // A failure before the status is set is thrown below, once awaited; it is not unhandled meanwhile.
  next.catch(() => undefined);
  await status;
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      yield result.value;
      next = iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * A native stream only grows, so a tool's status line cannot be shown in it
 * and taken back: the thread's status says it instead ("is running
 * get-sum…"), cleared when the tools are done. One call per change, far
 * below setStatus's tier.
 */
export async function* withToolStatus(
  d: SlackDeps,
  place: Place,
  items: AsyncIterable<StreamItem>,
): AsyncGenerator<StreamItem, void, undefined> {
  const threadTs = place.threadTs;
  const running = new Map<string, string>();
  for await (const item of items) {
    if (threadTs && typeof item !== "string" && item.type === "tool") {
      if (item.status === "started") running.set(item.callId, item.name);
      else running.delete(item.callId);
      const names = [...new Set(running.values())].join(", ");
      await d.api
        .setStatus(place.channel, threadTs, names ? `is running ${names}…` : "")
        .catch(() => undefined);
    }
    yield item;
  }
}

/** Removes the "thinking" status of a thread whose answer failed before showing anything. */
export async function clearStatus(d: SlackDeps, place: Place): Promise<void> {
  if (!place.threadTs) return;
  await d.api.setStatus(place.channel, place.threadTs, "").catch(() => undefined);
}

async function remember(
  d: SlackDeps,
  team: string,
  channel: string,
  threadTs: string,
  thread: AssistantThread,
): Promise<void> {
  await d.bot.state.set(threadKey(team, channel, threadTs), thread, ASSISTANT_TTL_MS);
}

const threadKey = (team: string, channel: string, threadTs: string) =>
  `slack:assistant:${team}:${channel}:${threadTs}`;
