import Anthropic from "@anthropic-ai/sdk";
import { NetworkError } from "../errors.js";
import { SdkModel, type SdkModelOptions } from "./sdk-model.js";
import type { ChatMessage } from "./types.js";

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

/**
 * Anthropic takes the system prompt as its own parameter and wants turns that
 * start with the user and alternate; consecutive same-role messages are joined.
 */
export function toAnthropic(messages: ChatMessage[]): {
  system: string;
  turns: Array<{ role: "user" | "assistant"; content: string }>;
} {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n\n");
  const turns: Array<{ role: "user" | "assistant"; content: string }> = [];
  for (const m of messages) {
    if (m.role === "system") continue;
    const last = turns.at(-1);
    if (last && last.role === m.role) last.content += `\n\n${m.content}`;
    else turns.push({ role: m.role, content: m.content });
  }
  while (turns[0]?.role === "assistant") turns.shift();
  return { system, turns };
}
