import type { FeedbackStore } from "../../src/feedback/index.js";
import type { Logger } from "../../src/log.js";
import type { Author, StoredMessage } from "../../src/memory/index.js";
import type { CrashRecovery } from "../../src/replicas/index.js";
import type { Access, PlaceSettings } from "../../src/settings/index.js";
import type { EditBudgetSource } from "../../src/stream/index.js";
import { type Bot, type TurnTracker, whenTurnStarts } from "../../src/turn/index.js";
import type { UsageMeter } from "../../src/usage/index.js";
import { type SlackApi, SlackApiError, type ThreadMessage } from "./api.js";
import { slackApproval } from "./approval.js";
import { afterStatus, onQuestion, withToolStatus } from "./assistant.js";
import { fetchSlackFiles, type SlackFile } from "./files.js";
import { fromSlackText, stripMention } from "./format.js";
import { type NativeDeps, respond, streamsNatively } from "./respond.js";
import { slackPlace } from "./settings.js";

/** What every handler needs; built once in startSlack. */
export interface SlackDeps {
  bot: Bot;
  /** Every surface's answers in flight (stopped by shutdown). */
  turns: TurnTracker;
  api: SlackApi;
  /** chat.update budgets, one per workspace. */
  budgets: EditBudgetSource;
  /** chat.postMessage budgets, one per channel (Slack: about one post a second, short bursts allowed). */
  postBudgets: EditBudgetSource;
  log: Logger;
  cursor: string;
  /** The bot's own user id (`<@U...>` mentions) and bot id (its messages' `bot_id`). */
  botUserId: string;
  botId: string;
  /** The workspace from auth.test, for payloads that do not say. */
  teamId: string;
  requireMention: boolean;
  /** The bot token, sent only to Slack's file host to download a message's files. */
  botToken: string;
  /** SLACK_API_URL: files may come from its host too (tests, proxies). */
  apiUrl: string | undefined;
  /** Remembers messages being streamed so a crash never leaves a cursor (src/replicas/recovery.ts). */
  recovery?: CrashRecovery;
  /** Per-place settings (reply-to-all here; the Bot reads the rest) and the /chatbot command. */
  settings: PlaceSettings;
  /** Who may use the bot and change its settings. */
  access: Access;
  /** Native streaming: where it is used and the budgets of its methods. */
  native: NativeDeps;
  /** Where 👍/👎 votes are kept. */
  feedback: FeedbackStore;
  /** Tokens per user and channel, and the daily limits (/usage). */
  usage: UsageMeter;
}

/** A message a person wrote, as message and app_mention events carry it. */
export interface SlackMessage {
  channel: string;
  ts: string;
  user?: string;
  text?: string;
  thread_ts?: string;
  subtype?: string;
  bot_id?: string;
  channel_type?: string;
  files?: SlackFile[];
}

/** Where a turn happens: its conversation id, and the thread the answer goes to (none: top level of a DM). */
export interface Place {
  team: string;
  channel: string;
  conversationId: string;
  threadTs: string | undefined;
  isDm: boolean;
  /** Read the thread's earlier messages as context: the bot is new to a thread that already has some. */
  readThread: boolean;
  /** A thread of the assistant pane (assistant_thread_started was seen for it). */
  assistant: boolean;
}

/** Earlier thread messages kept as context; the store keeps about this many anyway. */
const CONTEXT_MESSAGES = 100;
/** Subtypes that are still someone talking (the rest are edits, joins, deletions, ...). */
const TALKING_SUBTYPES = new Set(["thread_broadcast", "file_share", "bot_message"]);

/** One turn: the question (mention already stripped) answered in place by streaming. */
export async function answer(
  d: SlackDeps,
  ev: SlackMessage,
  place: Place,
  question: string,
  signal: AbortSignal,
  turnId: string,
  onQueued?: () => void,
) {
  const log = d.log.child({ conversationId: place.conversationId });
  const attached = ev.files ?? [];
  if (question === "" && attached.length === 0) {
    await say(d, place, hintText(d, place));
    return;
  }
  if (/^reset[.!]?$/i.test(question)) {
    await d.bot.reset(place.conversationId);
    await say(d, place, resetText(place));
    return;
  }
  const nameOf = (id: string) => d.api.userName(id);
  const native = streamsNatively(d.native.mode, place);
  const thinking = onQuestion(d, place, question, native);
  const [files, authorName, text, context] = await Promise.all([
    attached.length > 0
      ? fetchSlackFiles(attached, d.botToken, d.bot.attachmentLimits, d.apiUrl, log)
      : Promise.resolve([]),
    nameOf(ev.user ?? ""),
    fromSlackText(question, nameOf),
    threadContext(d, ev, place).catch(async (err: unknown) => {
      const code = err instanceof SlackApiError ? err.slackCode : "error";
      await say(
        d,
        place,
        `:warning: I could not read this thread's earlier messages (\`${code}\`), so I am answering without them.`,
      );
      return undefined;
    }),
  ]);
  const author: Author = { id: ev.user ?? "unknown", name: authorName };
  let shown!: () => void;
  const answerShown = new Promise<void>((resolve) => {
    shown = resolve;
  });
  // Nothing is posted while an earlier message of the thread is still answered (on any replica):
  // answers appear in the order the messages were written.
  const replying = await whenTurnStarts((onStart) =>
    afterStatus(
      thinking,
      d.bot.reply(
        {
          conversationId: place.conversationId,
          author,
          text,
          platform: "slack",
          place: slackPlace(place.team, place.channel, place.isDm),
          // Slack's ts is when the message was posted (s.µs): replicas answer a thread in this order.
          arrivedAt: Number(ev.ts) * 1000,
          ...(context?.length ? { context } : {}),
          ...(files.length > 0 ? { files } : {}),
        },
        signal,
        {
          onStart,
          shown: answerShown,
          ...(onQueued ? { onQueued } : {}),
          ...(d.bot.approvals ? { askApproval: slackApproval(d, place) } : {}),
        },
      ),
    ),
  );
  const deltas = native ? withToolStatus(d, place, replying) : replying;
  const result = await respond(d, ev, place, deltas, signal, {
    turnId,
    conversationId: place.conversationId,
  }).finally(shown);
  log.info(
    {
      platform: "slack",
      path: result.path,
      requests: result.requests,
      messages: result.messages,
      rateLimited: result.rateLimited,
      error: result.error?.code,
      ...(result.handOff ? { handOff: result.handOff } : {}),
    },
    "reply rendered",
  );
  if (result.platformError !== undefined) {
    const code = result.platformError instanceof SlackApiError ? result.platformError.slackCode : "error";
    log.warn({ err: result.platformError, messages: result.messages }, "Slack answer was cut off");
    // A failed edit was closed with a note by the renderer; a failed post left nothing saying so.
    if (result.postFailed)
      await say(d, place, `:warning: Slack stopped me from posting this answer (\`${code}\`).`);
  }
}

/** Posts one short message of the bot's own (mrkdwn) in the place; failures are logged by SlackApi. */
export async function say(d: SlackDeps, place: Place, text: string): Promise<void> {
  await d.api
    .postMessage({ channel: place.channel, text, ...(place.threadTs ? { thread_ts: place.threadTs } : {}) })
    .catch(() => undefined);
}

function hintText(d: SlackDeps, place: Place): string {
  return place.isDm
    ? "Hi! Send me a question and I will answer it here."
    : `Hi! Mention me with a question, like <@${d.botUserId}> what is a good name for a cat?`;
}

function resetText(place: Place): string {
  if (place.isDm && !place.threadTs)
    return "Done: I forgot our conversation. Your next message starts a new one.";
  return "Done: I forgot this thread. The next message here starts fresh.";
}

/**
 * When the bot is first mentioned in the middle of a thread, the thread's
 * earlier messages (read with conversations.replies) so "@bot summarize this"
 * works. The core stores them only if the conversation is still empty.
 */
async function threadContext(
  d: SlackDeps,
  ev: SlackMessage,
  place: Place,
): Promise<StoredMessage[] | undefined> {
  if (!place.readThread || !ev.thread_ts) return undefined;
  const messages = await d.api.replies(place.channel, ev.thread_ts, CONTEXT_MESSAGES + 1);
  const earlier = messages.filter((m) => compareTs(m.ts, ev.ts) < 0).slice(-CONTEXT_MESSAGES);
  const out: StoredMessage[] = [];
  for (const m of earlier) {
    const stored = await toStored(d, m);
    if (stored) out.push(stored);
  }
  return out;
}

async function toStored(d: SlackDeps, m: ThreadMessage): Promise<StoredMessage | undefined> {
  if (m.subtype && !TALKING_SUBTYPES.has(m.subtype)) return undefined;
  const at = Math.floor(Number(m.ts) * 1000);
  const own = m.user === d.botUserId || m.bot_id === d.botId;
  if (own) {
    const text = m.text.split(d.cursor).join("").trim();
    return text ? { role: "assistant", text, at } : undefined;
  }
  const text = (
    await fromSlackText(stripMention(m.text ?? "", d.botUserId), (id) => d.api.userName(id))
  ).trim();
  if (!text) return undefined;
  const author: Author = m.user
    ? { id: m.user, name: await d.api.userName(m.user) }
    : { id: m.bot_id ?? "bot", name: m.username ?? m.bot_profile?.name ?? "a bot" };
  return { role: "user", text, author, at };
}

/** Orders Slack timestamps ("seconds.micros") exactly; as numbers they lose the last digits. */
export function compareTs(a: string, b: string): number {
  const [as = "0", am = "0"] = a.split(".");
  const [bs = "0", bm = "0"] = b.split(".");
  return Number(as) - Number(bs) || Number(am.padEnd(6, "0")) - Number(bm.padEnd(6, "0"));
}
