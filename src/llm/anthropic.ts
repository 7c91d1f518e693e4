import Anthropic from "@anthropic-ai/sdk";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions } from "./sdk-model.js";
import { type ChatMessage, textOf } from "./types.js";

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

  protected async *once(messages: ChatMessage[], signal: AbortSignal): AsyncGenerator<string> {
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
    for await (const event of stream) {
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") yield event.delta.text;
      else if (event.type === "message_stop") finished = true;
    }
    if (!finished) throw new NetworkError("anthropic: the stream ended before the model finished");
  }
}

type Block = Anthropic.TextBlockParam | Anthropic.ImageBlockParam;
type Turn = { role: "user" | "assistant"; content: string | Block[] };

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
