import type { IncomingFile } from "../attachments/index.js";
import type { Limits } from "../config/index.js";
import type { ChatMessage, NamedModel, ProviderUsage } from "../llm/index.js";
import type { Author, MessageSlot, NewAttachment, StoredMessage, StoredToolRound } from "../memory/index.js";
import type { Lease } from "../replicas/index.js";
import type { Place } from "../settings/index.js";
import type { AskApproval } from "../tools/index.js";
import type { TurnUsage } from "../usage/index.js";
import type { PartialAnswerWriter } from "./partial.js";

/** One user message as an adapter hands it to the core. */
export interface Incoming {
  /** Built by the adapter: `slack:T:C:ts`, `discord:dm:C`, `web:uuid`, ... */
  conversationId: string;
  author: Author;
  text: string;
  /**
   * Earlier messages of the place (e.g. a Slack thread the bot was mentioned
   * in mid-way); stored before `text` when the conversation is still empty.
   */
  context?: StoredMessage[];
  /** "slack", "discord" or "web"; for logs and metrics. */
  platform?: string;
  /** Where it was written: the place's settings apply (model, prompt, memory). Absent: the defaults. */
  place?: Place;
  /**
   * Regenerate: answer the conversation's stored question again. Its last
   * answer is taken back first (history never holds both); `text` and
   * `context` are ignored, `author` is who asked for it.
   */
  again?: boolean;
  /** Files of the message as the adapter fetched them (src/attachments/); read into the question. */
  files?: IncomingFile[];
  /**
   * When the message was written, in ms since 1970 by the platform's own
   * clock (Slack's ts, a Discord snowflake's time): replicas answer a
   * conversation's messages in this order. Absent (the web): when its turn
   * queues, which is the request's receipt.
   */
  arrivedAt?: number;
}

/** How a caller follows one `Bot.reply`; every field is optional. */
export interface ReplyOptions {
  /**
   * Called once the turn may call the model (its conversation's turn came and
   * a model call was free), before anything is stored. The web opens its SSE
   * response here, so a refused turn can still answer a plain 503.
   */
  onStart?: () => void;
  /**
   * How this surface asks the asker to approve a tool that may change things
   * (Slack and Discord: Approve/Deny buttons). Absent (the web): such tools are not offered.
   */
  askApproval?: AskApproval;
  /**
   * Called once the turn has its place in the conversation's line shared by
   * replicas (only with a lock that orders by arrival: Bot.ordersTurns), so
   * an adapter may hand the next message of the conversation on.
   */
  onQueued?: () => void;
  /**
   * Resolves once the caller has shown the answer (its final edit made): the
   * conversation stays this turn's until then (at most a minute), so the next
   * message's answer, on any replica, appears below this one.
   */
  shown?: Promise<unknown>;
}

/** Figures of one finished (or failed) turn; logged, and given to `onTurn`. */
export interface TurnStats {
  conversationId: string;
  platform: string;
  provider: string;
  /** The provider's model name. */
  model: string;
  /** The operator's name for the model (CONFIG_FILE `models:`), bounded: fit for metric labels. */
  modelName: string;
  /** ms from the model call to its first delta; undefined when none came. */
  timeToFirstTokenMs: number | undefined;
  durationMs: number;
  deltas: number;
  chars: number;
  /** ChatError code when the turn failed. */
  error: string | undefined;
  /** Tokens (and cost) the turn used; absent when nothing was counted (refused before the model ran). */
  usage?: TurnUsage;
  /** The tool calls the turn made, in order; absent when it made none. */
  toolCalls?: ToolCallStats[];
}

/** One tool call of a turn, as its log line and the metrics count it. */
export interface ToolCallStats {
  /** Absent for a tool the model made up. */
  server?: string;
  name: string;
  /** done, error, timeout, refused or unavailable. */
  status: string;
  durationMs: number;
}

/** One turn's state from start to end; see Bot.reply. */
export interface Turn {
  incoming: Incoming;
  /** The place's model (the default until its settings are read). */
  model: NamedModel;
  /** The system prompt in effect. */
  prompt: string;
  /** False: nothing of this turn is stored, and no history is sent. */
  memory: boolean;
  controller: AbortController;
  detach: () => void;
  startedAt: number;
  release?: () => void;
  lease?: Lease;
  /** The conversation's generation the question went into; set once it is stored. */
  generation?: string;
  firstTokenMs?: number;
  text: string;
  deltas: number;
  answered: boolean;
  error?: string;
  /** What the question's files say, for the model; set once they are read. */
  filesText?: string;
  /** The question's images, kept with it. */
  attachments?: NewAttachment[];
  /** Sentences about the files shown under the answer (a file refused, no vision). */
  notes?: string[];
  /** Gives back the model call taken from the global cap (idempotent). */
  releaseModelCall?: () => void;
  /** Where the answer is stored while it streams. */
  slot?: MessageSlot;
  /** Keeps the answer so far in the store (coalesced). */
  partial?: PartialAnswerWriter;
  /** The MCP servers the place may use (its settings); absent: those enabled everywhere. */
  toolServers?: string[];
  /** The rounds of tool calls so far, stored with the answer. */
  toolRounds?: StoredToolRound[];
  /** Every call so far, for the turn's log line and metrics. */
  toolCalls?: ToolCallStats[];
  /** The place's daily limits (its settings); absent: the operator's. */
  limits?: Limits;
  /** The messages sent to the model (for a tokenizer estimate when the provider reports no usage). */
  sent?: ChatMessage[];
  /** What the provider reported each request used. */
  reported: ProviderUsage[];
  /** The model's stream ended normally. */
  streamEnded?: boolean;
  /** Usage was counted (once per turn). */
  counted?: boolean;
  usage?: TurnUsage;
}
