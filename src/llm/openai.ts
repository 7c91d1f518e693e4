import OpenAI from "openai";
import { NetworkError } from "../errors.js";
import { mapSdkError } from "./errors.js";
import { resilientStream } from "./resilience.js";
import type { ChatMessage, ChatModel, StreamOptions } from "./types.js";

export interface OpenAIModelOptions {
  model: string;
  /** Not needed by local servers such as Ollama; a placeholder is sent then. */
  apiKey?: string;
  /** Any OpenAI-compatible server, e.g. http://localhost:11434/v1 (Ollama). Default: OpenAI. */
  baseUrl?: string;
  temperature?: number;
  maxOutputTokens: number;
  idleTimeoutMs: number;
  maxRetries: number;
  /** First retry backoff (ms). */
  backoffMs?: number;
}

/** OpenAI and every OpenAI-compatible server, through the official SDK's streaming chat completions. */
export class OpenAIModel implements ChatModel {
  readonly provider = "openai";
  readonly model: string;
  private readonly client: OpenAI;
  private readonly options: OpenAIModelOptions;

  constructor(options: OpenAIModelOptions) {
    this.options = options;
    this.model = options.model;
    this.client = new OpenAI({
      apiKey: options.apiKey ?? "not-needed",
      baseURL: options.baseUrl,
      // Retries are ours (before the first token only); the SDK's would also retry mid-answer failures.
      maxRetries: 0,
      timeout: options.idleTimeoutMs,
    });
  }

  stream(messages: ChatMessage[], options: StreamOptions = {}): AsyncIterable<string> {
    return resilientStream((signal) => this.once(messages, signal), {
      maxRetries: this.options.maxRetries,
      idleTimeoutMs: this.options.idleTimeoutMs,
      backoffMs: this.options.backoffMs,
      mapError: (err) => mapSdkError(err, "openai"),
      signal: options.signal,
    });
  }

  private async *once(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string> {
    // The official API prefers max_completion_tokens (required by reasoning models);
    // compatible servers (Ollama, vLLM, LM Studio) know max_tokens.
    const limit = this.options.baseUrl
      ? { max_tokens: this.options.maxOutputTokens }
      : { max_completion_tokens: this.options.maxOutputTokens };
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages,
        stream: true,
        ...limit,
        ...(this.options.temperature === undefined ? {} : { temperature: this.options.temperature }),
      },
      { signal },
    );
    let finished = false;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const delta = choice?.delta?.content;
      if (delta) yield delta;
      if (choice?.finish_reason) finished = true;
    }
    // A connection cut mid-answer can end the SSE stream without an error; the answer is not whole.
    if (!finished) throw new NetworkError("openai: the stream ended before the model finished");
  }
}
