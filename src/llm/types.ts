/** Plain text inside a message. */
export interface TextPart {
  type: "text";
  text: string;
}

/** The media types both providers accept as image input. */
export type ImageMediaType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

/**
 * An image inside a user message, already scaled to what the providers
 * recommend (src/attachments/). Each provider turns it into its own format:
 * OpenAI an `image_url` data URL part, Anthropic an `image` block with a base64 source.
 */
export interface ImagePart {
  type: "image";
  mediaType: ImageMediaType;
  /** The encoded image, base64 (no data: prefix). */
  data: string;
  /** Pixels after scaling; context fitting estimates the image's tokens from them. */
  width: number;
  height: number;
  /** The file's name, for notes ("photo.jpg was not sent again"). */
  name?: string;
}

/**
 * A tool the model asked to call, in an assistant message. OpenAI gets it as
 * one of the message's `tool_calls`, Anthropic as a `tool_use` block.
 */
export interface ToolCallPart {
  type: "tool_call";
  /** The provider's id of the call (`call_…`, `toolu_…`); its result names it. */
  id: string;
  /** The tool's name as the model was offered it. */
  name: string;
  /** The arguments the model wrote (a JSON object). */
  args: Record<string, unknown>;
}

/**
 * What a tool answered, in a `tool` message. OpenAI gets one `role: "tool"`
 * message per result, Anthropic a `tool_result` block in a user turn.
 */
export interface ToolResultPart {
  type: "tool_result";
  /** The ToolCallPart.id this answers. */
  callId: string;
  name: string;
  text: string;
  /** The call failed (error, timeout, refused): the model is told so. */
  isError?: boolean;
}

/** One piece of a message; a union on `type`. */
export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart;

/**
 * A message as the model sees it: a string, or parts (in order). Only user
 * messages carry images; only assistant messages tool calls; only `tool`
 * messages tool results (each answering a call of the assistant message before it).
 */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | ContentPart[];
}

/** A tool the model may call: its name, what it does, and its arguments' JSON Schema. */
export interface ToolDefinition {
  /** At most 64 of letters, digits, `_` and `-` (both providers' rule). */
  name: string;
  description: string;
  /** A JSON Schema of type "object". */
  parameters: Record<string, unknown>;
}

export interface StreamOptions {
  /** Aborting it stops the request; the iterator then throws AbortedError. */
  signal?: AbortSignal;
  /**
   * Called with what the provider said one request used, once per request
   * that reported anything (also a failed or stopped one), before the stream ends
   * when the provider sends it in time. Not called when it reported nothing.
   */
  onUsage?: (usage: ProviderUsage) => void;
  /** Tools the model may call in this request. Absent or empty: none offered. */
  tools?: ToolDefinition[];
  /** "none": the model may not call any (its last round); default "auto". */
  toolChoice?: "auto" | "none";
  /**
   * Called once, when the model ended its message by asking for tool calls
   * (with their arguments whole), before the stream ends. Not called when it answered.
   */
  onToolCalls?: (calls: ToolCallPart[]) => void;
}

/**
 * Tokens one request used, as the provider reported them; a field is absent
 * when the provider did not say (an OpenAI-compatible server without usage, a
 * stream cut before its last event).
 */
export interface ProviderUsage {
  /** Every input token, cached ones included (OpenAI prompt_tokens; Anthropic input + cache read + cache write). */
  inputTokens?: number;
  outputTokens?: number;
  /** Of the input, read from the provider's prompt cache (billed lower). */
  cachedInputTokens?: number;
}

/**
 * A streaming chat model. `stream` yields text deltas in order; the joined
 * deltas are the whole answer. Failures are thrown as ChatError subclasses
 * (src/errors.ts), either before the first delta or mid-stream.
 */
export interface ChatModel {
  /** "openai" or "anthropic"; for logs and metrics. */
  readonly provider: string;
  /** The model name sent to the provider. */
  readonly model: string;
  /**
   * Whether the model accepts image parts (default true). When false the turn
   * sends no images and tells the user so; set per model by the operator
   * (LLM_VISION, or a model's `vision:` in a config file).
   */
  readonly vision: boolean;
  stream(messages: ChatMessage[], options?: StreamOptions): AsyncIterable<string>;
}

/** The text of a message's content, text parts joined (images and tool parts left out). */
export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return content
    .filter((p): p is TextPart => p.type === "text")
    .map((p) => p.text)
    .join("\n\n");
}
