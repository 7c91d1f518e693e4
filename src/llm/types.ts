/** A message as the model sees it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface StreamOptions {
  /** Aborting it stops the request; the iterator then throws AbortedError. */
  signal?: AbortSignal;
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
  stream(messages: ChatMessage[], options?: StreamOptions): AsyncIterable<string>;
}
