/** Who wrote a message: the platform's user id and the name people see. */
export interface Author {
  id: string;
  name: string;
}

/** One stored message of a conversation. */
export interface StoredMessage {
  role: "user" | "assistant";
  text: string;
  /** Set on user messages; absent on the bot's own. */
  author?: Author;
  /** When it was written, ms since the epoch. */
  at: number;
  /** Set on an assistant answer that was cut off by an error or a stop. */
  incomplete?: boolean;
  /**
   * What a user message's files said, for the model: document and text-file
   * contents, names of files not read. Kept apart from `text` (what the person wrote).
   */
  filesText?: string;
  /** Images that came with a user message; their bytes are kept apart (ConversationStore.attachments). */
  attachments?: AttachmentRef[];
  /** On an answer: the tools it called, round by round, with their (bounded) results. */
  tools?: StoredToolRound[];
}

/** One round of tool calls inside an answer. */
export interface StoredToolRound {
  /** Where in the answer's text the calls came: the text before it is what the model wrote first. */
  at: number;
  calls: StoredToolCall[];
}

/** One tool call and its result, as the model is shown it again on a follow-up. */
export interface StoredToolCall {
  /** The provider's id of the call. */
  id: string;
  /** The name the model called it by. */
  name: string;
  /** The tool's own name and server (for people). */
  tool: string;
  server?: string;
  args: Record<string, unknown>;
  /** The result's text, bounded (TOOL_RESULT_MAX_CHARS); `truncated` when cut. */
  result: string;
  isError?: boolean;
  truncated?: boolean;
}

/**
 * An image kept with a conversation. The bytes live in their own key, bounded
 * per conversation (MEMORY_MAX_ATTACHMENTS, MEMORY_MAX_ATTACHMENT_MB: the
 * oldest go first), deleted by reset and expired with the conversation.
 */
export interface AttachmentRef {
  id: string;
  name: string;
  mediaType: string;
  width: number;
  height: number;
}

/** An image to keep: its reference and its bytes, base64. */
export interface NewAttachment extends AttachmentRef {
  data: string;
}

/**
 * Conversation memory. Ids are opaque strings built by adapters
 * (`slack:T:C:ts`, `discord:dm:C`, `web:uuid`, ...). Every method (and the
 * StateStore's) fails with a StoreError naming the backend's error code.
 */
export interface ConversationStore {
  /**
   * Adds one message; costs the same at message 5 and 5,000. Returns the
   * conversation's generation (it changes at every reset), or undefined when
   * `ifGeneration` was given and is no longer the live one: then nothing is
   * written, so an answer finished after a /reset does not land in the fresh
   * conversation.
   */
  append(
    conversationId: string,
    message: StoredMessage,
    options?: {
      ifGeneration?: string;
      /** Images of this message: kept (within the caps) and referenced from `message.attachments`. */
      attachments?: NewAttachment[];
    },
  ): Promise<string | undefined>;
  /**
   * Takes back the conversation's last answer (its last message, when the bot
   * wrote it), so that the question before it can be answered again and
   * history never holds both answers. Returns the live generation (as
   * `append` does), or undefined when the conversation is empty.
   */
  dropLastAnswer(conversationId: string): Promise<string | undefined>;
  /** The bytes (base64) of the conversation's images still kept, by id; ids no longer kept are absent. */
  attachments(conversationId: string, ids: string[]): Promise<Map<string, string>>;
  /**
   * `append`, returning where the message went, so a growing answer can be
   * written again in place (`rewrite`) while it streams.
   */
  appendSlot(
    conversationId: string,
    message: StoredMessage,
    options?: { ifGeneration?: string },
  ): Promise<MessageSlot | undefined>;
  /**
   * Writes `message` over the one at `slot`, only while the slot's generation
   * is live (false after a reset: nothing is written).
   */
  rewrite(conversationId: string, slot: MessageSlot, message: StoredMessage): Promise<boolean>;
  /** The newest messages kept (at most `limit`, default: the configured maximum), oldest first. */
  history(conversationId: string, limit?: number): Promise<StoredMessage[]>;
  /** Forgets the conversation in O(1), and deletes its images. `delete` is the same operation. */
  reset(conversationId: string): Promise<void>;
  delete(conversationId: string): Promise<void>;
  /**
   * Forgets every conversation whose id starts with `prefix + ":"` (e.g. all
   * threads of one Slack channel), in O(1), and deletes their images (one
   * read and delete per conversation that kept any).
   */
  resetScope(prefix: string): Promise<void>;
  /** Whether the conversation has any message. */
  exists(conversationId: string): Promise<boolean>;
  /** Small key-value state for adapters (dedupe, joined threads), namespaced apart from messages. */
  readonly state: StateStore;
  close(): Promise<void>;
}

/** Where one message is stored: the conversation's generation and its position in it. */
export interface MessageSlot {
  generation: string;
  index: number;
}

export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Several keys in one round trip (Redis MGET, one SQL query); undefined where absent. */
  getMany<T>(keys: string[]): Promise<Array<T | undefined>>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  /** Sets `key` only if it is absent; true when this call set it (first claim wins). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}
