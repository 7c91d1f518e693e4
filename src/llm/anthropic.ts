import Anthropic from "@anthropic-ai/sdk";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions } from "./sdk-model.js";
import { type ChatMessage, type ProviderUsage, textOf } from "./types.js";

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
  ): AsyncGenerator<string> {
    const { system, turns } = toAnthropic(messages);
    const stream = await this.client.messages.create(
      {
        model: this.model,
        max_tokens: this.options.maxOutputTokens,
        messages: turns,
        stream: true,
        ...(system ? { system } : {}),
        ...(this.options.temperature === undefined
          ? {}
          : { temperature: Math.min(this.options.temperature, 1) }),
      },
      { signal },
    );
    let finished = false;
    const usage = new AnthropicUsage();
    try {
      for await (const event of stream) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") yield event.delta.text;
        else if (event.type === "message_start") usage.start(event.message.usage);
        else if (event.type === "message_delta") usage.delta(event.usage);
        else if (event.type === "message_stop") finished = true;
      }
    } finally {
      // Also when cut short or stopped: message_start's input was used whatever happens next.
      const reported = usage.reported();
      if (reported) report(reported);
    }
    if (!finished) throw new NetworkError("anthropic: the stream ended before the model finished");
  }
}

type Block = Anthropic.TextBlockParam | Anthropic.ImageBlockParam;
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
 * (as text, or as blocks once one of them has an image).
 */
export function toAnthropic(messages: ChatMessage[]): { system: string; turns: Turn[] } {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => textOf(m.content))
    .join("\n\n");
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    const content = m.role === "user" ? toBlocksOrText(m.content) : textOf(m.content);
    const last = turns.at(-1);
    if (last && last.role === m.role) last.content = join(last.content, content);
    else turns.push({ role: m.role, content });
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
  return content.map((p) =>
    p.type === "text"
      ? { type: "text", text: p.text }
      : { type: "image", source: { type: "base64", media_type: p.mediaType, data: p.data } },
  );
}

function join(a: string | Block[], b: string | Block[]): string | Block[] {
  if (typeof a === "string" && typeof b === "string") return `${a}\n\n${b}`;
  const blocks = (c: string | Block[]): Block[] => (typeof c === "string" ? [{ type: "text", text: c }] : c);
  return [...blocks(a), ...blocks(b)];
}
