import type { AttachmentLimits } from "../attachments/index.js";
import type { ChatModel, Models } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { ConversationStore, TokenCounter } from "../memory/index.js";
import type { TurnLock } from "../replicas/index.js";
import type { PlaceSettings } from "../settings/index.js";
import type { UsageMeter } from "../usage/index.js";
import type { ModelCallLimiter } from "./model-calls.js";
import type { TurnTools } from "./tools.js";
import type { TurnStats } from "./types.js";

/** What a Bot is made of (src/core.ts builds it from the configuration; tests build their own). */
export interface BotOptions {
  /**
   * The models turns may use, by name. None (or no default): every turn fails
   * with `notConfiguredMessage`.
   */
  models?: Models;
  /** One model instead of `models` (a one-model bot; tests): null means none configured. */
  model?: ChatModel | null;
  /** With `model`: its input budget (system prompt + history) in tokens. */
  contextTokens?: number;
  store: ConversationStore;
  log: Logger;
  /** The system prompt where a place sets none (and every prompt, without `settings`). */
  systemPrompt: string;
  /**
   * Per-place settings (model, prompt, memory) read for each turn whose
   * Incoming names its place. Absent: the operator's defaults everywhere.
   */
  settings?: PlaceSettings;
  /**
   * Serializes turns of one conversation across replicas (src/replicas/).
   * Absent: in this process only, which is all a single SQLite process needs.
   */
  lock?: TurnLock;
  /**
   * Counts every turn's tokens and cost, and applies daily limits
   * (src/usage/). Absent: nothing is counted or limited.
   */
  usage?: UsageMeter;
  /** Default: the provider's tokenizer (src/memory/tokens.ts). */
  countTokens?: TokenCounter;
  /** Default NO_MODEL_HELP. */
  notConfiguredMessage?: string;
  /** How much of a message's files is read (ATTACHMENT_*); default DEFAULT_ATTACHMENT_LIMITS. */
  attachments?: AttachmentLimits;
  onTurn?: (stats: TurnStats) => void;
  /** The cap on model calls at once across every surface (src/turn/model-calls.ts). Absent: no cap. */
  modelCalls?: ModelCallLimiter;
  /**
   * MCP servers the model may call, the approvals of calls that change
   * things, and the loop's bounds (src/tools/). Absent: no tools.
   */
  tools?: TurnTools;
  /** Shortest time between two writes of a streaming answer's text to the store (ms; default 1,000). */
  partialSaveMs?: number;
  /** Injected for tests. */
  now?: () => number;
}
