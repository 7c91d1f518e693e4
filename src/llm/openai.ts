import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions, type ToolRequest } from "./sdk-model.js";
import { parseArgs } from "./tool-args.js";
import { type ChatMessage, type ProviderUsage, type ToolCallPart, textOf } from "./types.js";

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
    tools: ToolRequest,
  ): AsyncGenerator<string> {
    // The official API prefers max_completion_tokens (required by reasoning models);
    // compatible servers (Ollama, vLLM, LM Studio) know max_tokens.
    const limit = this.options.baseUrl
      ? { max_tokens: this.options.maxOutputTokens }
      : { max_completion_tokens: this.options.maxOutputTokens };
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages: messages.flatMap(toOpenAI),
        stream: true,
        ...(tools.tools.length > 0
          ? {
              tools: tools.tools.map((t) => ({
                type: "function" as const,
                function: { name: t.name, description: t.description, parameters: t.parameters },
              })),
              tool_choice: tools.choice,
            }
          : {}),
        // Usage arrives in one more chunk after the last (empty choices); servers that ignore it send none.
        // @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
        stream_options: { include_usage: true },
        ...limit,
        ...(this.options.temperature === undefined ? {} : { temperature: this.options.temperature }),
      },
      { signal },
    );
    let finished = false;
    const calls = new StreamedCalls();
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const delta = choice?.delta?.content;
      if (delta) yield delta;
      if (choice?.delta?.tool_calls) {
        calls.add(choice.delta.tool_calls);
        // Keeps the idle timer armed while long arguments stream (empty deltas are skipped).
        yield "";
      }
      if (choice?.finish_reason) finished = true;
      if (chunk.usage) report(openAIUsage(chunk.usage));
    }
    // A connection cut mid-answer can end the SSE stream without an error; the answer is not whole.
    if (!finished) throw new NetworkError("openai: the stream ended before the model finished");
    if (calls.size > 0) tools.onCalls(calls.done());
  }
}

type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice.Delta["tool_calls"]>[number];

/**
 * Tool calls as Chat Completions streams them: the first delta of a call
 * carries its `index`, `id` and name, the next ones pieces of its arguments
 * (a JSON string) under the same index; parallel calls interleave by index.
 * @see https://platform.openai.com/docs/guides/function-calling#streaming
 */
class StreamedCalls {
  private readonly byIndex = new Map<number, { id: string; name: string; args: string }>();

  get size(): number {
    return this.byIndex.size;
  }

  add(deltas: ToolCallDelta[]): void {
    for (const d of deltas) {
      const call = this.byIndex.get(d.index) ?? { id: "", name: "", args: "" };
      if (d.id) call.id = d.id;
      if (d.function?.name) call.name += d.function.name;
      if (d.function?.arguments) call.args += d.function.arguments;
      this.byIndex.set(d.index, call);
    }
  }

  done(): ToolCallPart[] {
    return [...this.byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({
        type: "tool_call",
        id: c.id || `call_${index}`,
        name: c.name,
        args: parseArgs(c.args),
      }));
  }
}

/**
 * A message in Chat Completions' shape: parts become `text` and `image_url`
 * parts, an image a data URL (`detail: "auto"` lets the model pick its
 * resolution); an assistant's tool calls its `tool_calls`; a tool message
 * one `role: "tool"` message per result.
 * @see https://platform.openai.com/docs/guides/images-vision#giving-a-model-images-as-input
 * @see https://platform.openai.com/docs/guides/function-calling
 */
function toOpenAI(m: ChatMessage): ChatCompletionMessageParam[] {
  if (m.role === "tool") {
    const parts = typeof m.content === "string" ? [] : m.content;
    return parts.flatMap((p) =>
      p.type === "tool_result" ? [{ role: "tool" as const, tool_call_id: p.callId, content: p.text }] : [],
    );
  }
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  if (m.role === "assistant") {
    const calls = m.content.filter((p): p is ToolCallPart => p.type === "tool_call");
    const text = textOf(m.content);
    if (calls.length === 0) return [{ role: "assistant", content: text }];
    return [
      {
        role: "assistant",
        content: text || null,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: "function" as const,
          function: { name: c.name, arguments: JSON.stringify(c.args) },
        })),
      },
    ];
  }
  if (m.role !== "user") return [{ role: m.role, content: textOf(m.content) }];
  return [
    {
      role: "user",
      content: m.content.flatMap((p): OpenAI.ChatCompletionContentPart[] =>
        p.type === "text"
          ? [{ type: "text" as const, text: p.text }]
          : p.type === "image"
            ? [
                {
                  type: "image_url" as const,
                  image_url: { url: `data:${p.mediaType};base64,${p.data}`, detail: "auto" as const },
                },
              ]
            : [],
      ),
    },
  ];
}

/** OpenAI's usage chunk in the provider-neutral shape (prompt_tokens already includes cached ones). */
function openAIUsage(usage: OpenAI.CompletionUsage): ProviderUsage {
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}
