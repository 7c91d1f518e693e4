import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions } from "./sdk-model.js";
import { type ChatMessage, type ProviderUsage, textOf } from "./types.js";

/** OpenAI and every OpenAI-compatible server, through the official SDK's streaming chat completions. */
export class OpenAIModel extends SdkModel {
  readonly provider = "openai";
  private readonly client: OpenAI;

  constructor(options: SdkModelOptions) {
    super(options);
    this.client = new OpenAI({
      apiKey: options.apiKey ?? "not-needed",
      baseURL: options.baseUrl,
      // Retries are ours (before the first token only); the SDK's would also retry mid-answer failures.
      maxRetries: 0,
      timeout: options.idleTimeoutMs,
    });
  }

  protected async *once(
    messages: ChatMessage[],
    signal: AbortSignal,
    report: (usage: ProviderUsage) => void,
  ): AsyncGenerator<string> {
    // The official API prefers max_completion_tokens (required by reasoning models);
    // compatible servers (Ollama, vLLM, LM Studio) know max_tokens.
    const limit = this.options.baseUrl
      ? { max_tokens: this.options.maxOutputTokens }
      : { max_completion_tokens: this.options.maxOutputTokens };
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages: messages.map(toOpenAI),
        stream: true,
        // Usage arrives in one more chunk after the last (empty choices); servers that ignore it send none.
        // @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
        stream_options: { include_usage: true },
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
      if (chunk.usage) report(openAIUsage(chunk.usage));
    }
    // A connection cut mid-answer can end the SSE stream without an error; the answer is not whole.
    if (!finished) throw new NetworkError("openai: the stream ended before the model finished");
  }
}

/**
 * A message in Chat Completions' shape: parts become `text` and `image_url`
 * parts, an image a data URL (`detail: "auto"` lets the model pick its resolution).
 * @see https://platform.openai.com/docs/guides/images-vision#giving-a-model-images-as-input
 */
export function toOpenAI(m: ChatMessage): ChatCompletionMessageParam {
  if (typeof m.content === "string") return { role: m.role, content: m.content };
  if (m.role !== "user") return { role: m.role, content: textOf(m.content) };
  return {
    role: "user",
    content: m.content.map((p) =>
      p.type === "text"
        ? { type: "text" as const, text: p.text }
        : {
            type: "image_url" as const,
            image_url: { url: `data:${p.mediaType};base64,${p.data}`, detail: "auto" as const },
          },
    ),
  };
}

/** OpenAI's usage chunk in the provider-neutral shape (prompt_tokens already includes cached ones). */
function openAIUsage(usage: OpenAI.CompletionUsage): ProviderUsage {
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}
