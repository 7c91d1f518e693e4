import Anthropic from "@anthropic-ai/sdk";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions, type ToolRequest } from "./sdk-model.js";
import { parseArgs } from "./tool-args.js";
import { type ChatMessage, type ProviderUsage, type ToolCallPart, textOf } from "./types.js";

/** Claude through the official SDK's streaming Messages API. */
export class AnthropicModel extends SdkModel {
  readonly provider = "anthropic";
  private readonly client: Anthropic;

  constructor(options: SdkModelOptions) {
    super(options);
    this.client = new Anthropic({
      apiKey: options.apiKey ?? "not-set",
      baseURL: options.baseUrl,
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
    const { system, turns } = toAnthropic(messages);
    const stream = await this.client.messages.create(
      {
        model: this.model,
        max_tokens: this.options.maxOutputTokens,
        messages: turns,
        stream: true,
        ...(system ? { system } : {}),
        ...(tools.tools.length > 0
          ? {
              tools: tools.tools.map((t) => ({
                name: t.name,
                description: t.description,
                input_schema: { type: "object" as const, ...t.parameters },
              })),
              tool_choice: { type: tools.choice },
            }
          : {}),
        ...(this.options.temperature === undefined
          ? {}
          : { temperature: Math.min(this.options.temperature, 1) }),
      },
      { signal },
    );
    let finished = false;
    const usage = new AnthropicUsage();
    // A tool_use block opens with its id and name; its input streams as input_json_delta pieces.
    // @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#input-json-delta
    const calls = new Map<number, { id: string; name: string; json: string }>();
    try {
      for await (const event of stream) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") yield event.delta.text;
        else if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
          calls.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: "" });
        } else if (event.type === "content_block_delta" && event.delta.type === "input_json_delta") {
          const call = calls.get(event.index);
          if (call) call.json += event.delta.partial_json;
          // Keeps the idle timer armed while long arguments stream (empty deltas are skipped).
          yield "";
        } else if (event.type === "message_start") usage.start(event.message.usage);
        else if (event.type === "message_delta") usage.delta(event.usage);
        else if (event.type === "message_stop") finished = true;
      }
    } finally {
      // Also when cut short or stopped: message_start's input was used whatever happens next.
      const reported = usage.reported();
      if (reported) report(reported);
    }
    if (!finished) throw new NetworkError("anthropic: the stream ended before the model finished");
    if (calls.size > 0)
      tools.onCalls(
        [...calls.entries()]
          .sort(([a], [b]) => a - b)
          .map(([, c]) => ({ type: "tool_call", id: c.id, name: c.name, args: parseArgs(c.json) })),
      );
  }
}

type Block =
  | Anthropic.TextBlockParam
  | Anthropic.ImageBlockParam
  | Anthropic.ToolUseBlockParam
  | Anthropic.ToolResultBlockParam;
type Turn = { role: "user" | "assistant"; content: string | Block[] };

/**
 * Anthropic reports input (apart: uncached, read from cache, written to cache)
 * in message_start, and cumulative output in message_delta; message_start's
 * output_tokens is a placeholder, so output counts only once a delta said it.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
class AnthropicUsage {
  private input: number | undefined;
  private cached = 0;
  private output: number | undefined;

  start(u: Anthropic.Usage): void {
    this.cached = u.cache_read_input_tokens ?? 0;
    this.input = u.input_tokens + this.cached + (u.cache_creation_input_tokens ?? 0);
  }

  delta(u: Anthropic.MessageDeltaUsage): void {
    this.output = u.output_tokens;
    // Newer API versions repeat the (cumulative) input figures here.
    if (u.input_tokens !== null && u.input_tokens !== undefined) {
      this.cached = u.cache_read_input_tokens ?? this.cached;
      this.input = u.input_tokens + this.cached + (u.cache_creation_input_tokens ?? 0);
    }
  }

  reported(): ProviderUsage | undefined {
    if (this.input === undefined && this.output === undefined) return undefined;
    return {
      ...(this.input !== undefined ? { inputTokens: this.input, cachedInputTokens: this.cached } : {}),
      ...(this.output !== undefined ? { outputTokens: this.output } : {}),
    };
  }
}

/**
 * Anthropic takes the system prompt as its own parameter and wants turns that
 * start with the user and alternate; consecutive same-role messages are joined
 * (as text, or as blocks once one of them has an image). Tool results go in a
 * user turn (`tool_result` blocks, first in it), tool calls are the
 * assistant's `tool_use` blocks.
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
 */
function toAnthropic(messages: ChatMessage[]): { system: string; turns: Turn[] } {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => textOf(m.content))
    .join("\n\n");
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    const role = m.role === "assistant" ? "assistant" : "user";
    const content = m.role === "assistant" ? assistantContent(m.content) : toBlocksOrText(m.content);
    const last = turns.at(-1);
    if (last && last.role === role) last.content = join(last.content, content);
    else turns.push({ role, content });
  }
  while (turns[0]?.role === "assistant") turns.shift();
  return { system, turns };
}

/**
 * Parts as Messages API blocks: an image is an `image` block with a base64 source.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision
 */
function toBlocksOrText(content: ChatMessage["content"]): string | Block[] {
  if (typeof content === "string") return content;
  return content.flatMap((p): Block[] => {
    if (p.type === "text") return [{ type: "text", text: p.text }];
    if (p.type === "image")
      return [{ type: "image", source: { type: "base64", media_type: p.mediaType, data: p.data } }];
    if (p.type === "tool_result")
      return [
        {
          type: "tool_result",
          tool_use_id: p.callId,
          content: p.text,
          ...(p.isError ? { is_error: true } : {}),
        },
      ];
    return [];
  });
}

/** An assistant message: its text, and its tool calls as `tool_use` blocks (an empty text block is refused). */
function assistantContent(content: ChatMessage["content"]): string | Block[] {
  if (typeof content === "string") return content;
  const calls = content.filter((p): p is ToolCallPart => p.type === "tool_call");
  const text = textOf(content);
  if (calls.length === 0) return text;
  return [
    ...(text ? [{ type: "text" as const, text }] : []),
    ...calls.map((c) => ({ type: "tool_use" as const, id: c.id, name: c.name, input: c.args })),
  ];
}

function join(a: string | Block[], b: string | Block[]): string | Block[] {
  if (typeof a === "string" && typeof b === "string") return `${a}\n\n${b}`;
  const blocks = (c: string | Block[]): Block[] => (typeof c === "string" ? [{ type: "text", text: c }] : c);
  return [...blocks(a), ...blocks(b)];
}
