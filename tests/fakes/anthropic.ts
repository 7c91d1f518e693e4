import type { ServerResponse } from "node:http";
import {
  argPieces,
  FakeLlmServer,
  type FakeRequestBody,
  type FakeToolCall,
  type FakeUsage,
  lastUserText,
} from "./llm-server.js";

/**
 * A fake Anthropic Messages server: `POST /v1/messages` with `stream: true`
 * answers the real event sequence (message_start, content_block_start, ping,
 * content_block_delta..., content_block_stop, message_delta, message_stop).
 * Usage is where the real API puts it: input (uncached, cache read, cache
 * write) in message_start, cumulative output in message_delta.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export class FakeAnthropic extends FakeLlmServer {
  protected path = "/v1/messages";
  private id = 0;

  private constructor() {
    super((body) => ({ text: `You said: ${lastUserText(body)}` }));
  }

  static async start(): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic();
    await fake.listen();
    return fake;
  }

  /** The base URL to give the SDK (ANTHROPIC_BASE_URL); the SDK appends /v1/messages. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected writeStart(res: ServerResponse, body: FakeRequestBody, usage: FakeUsage | undefined): void {
    this.id++;
    this.event(res, "message_start", {
      type: "message_start",
      message: {
        id: `msg_fake${this.id}`,
        type: "message",
        role: "assistant",
        content: [],
        model: body.model ?? "fake",
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage?.inputTokens ?? 0,
          cache_creation_input_tokens: usage?.cacheWriteTokens ?? 0,
          cache_read_input_tokens: usage?.cachedInputTokens ?? 0,
          output_tokens: 1,
        },
      },
    });
    this.event(res, "content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    });
    this.event(res, "ping", { type: "ping" });
  }

  protected writeDelta(res: ServerResponse, text: string): void {
    this.event(res, "content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text },
    });
  }

  /**
   * After the text block (index 0), one `tool_use` block per call: opened with
   * its id, name and an empty input, its input streamed as `input_json_delta`
   * pieces, then closed. The text block is closed first.
   * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#input-json-delta
   */
  protected writeToolCalls(res: ServerResponse, calls: FakeToolCall[], first: number): void {
    this.event(res, "content_block_stop", { type: "content_block_stop", index: 0 });
    this.textClosed = true;
    calls.forEach((call, i) => {
      const index = i + 1;
      const id = call.id ?? `toolu_fake${first + i}`;
      this.event(res, "content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id, name: call.name, input: {} },
      });
      for (const partial_json of argPieces(call.args))
        this.event(res, "content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json },
        });
      this.event(res, "content_block_stop", { type: "content_block_stop", index });
    });
  }

  private textClosed = false;

  protected writeEnd(
    res: ServerResponse,
    usage: FakeUsage | undefined,
    _body: FakeRequestBody,
    toolStop: boolean,
  ): void {
    if (!this.textClosed) this.event(res, "content_block_stop", { type: "content_block_stop", index: 0 });
    this.textClosed = false;
    this.event(res, "message_delta", {
      type: "message_delta",
      delta: { stop_reason: toolStop ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: usage?.outputTokens ?? 0 },
    });
    this.event(res, "message_stop", { type: "message_stop" });
  }

  protected errorBody(status: number): unknown {
    const kinds: Record<number, [string, string]> = {
      400: ["invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"],
      401: ["authentication_error", "invalid x-api-key"],
      404: ["not_found_error", "model not found"],
      429: ["rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"],
      500: ["api_error", "Internal server error"],
      529: ["overloaded_error", "Overloaded"],
    };
    const [type, message] = kinds[status] ?? ["api_error", `error ${status}`];
    return { type: "error", error: { type, message } };
  }

  /**
   * The Messages API's rule on turns: they start with the user and alternate
   * (a strict provider answers 400 otherwise, as chat templates of many
   * OpenAI-compatible servers do too).
   * @see https://docs.anthropic.com/en/api/messages
   */
  protected override invalid(body: { messages?: Array<{ role: string }> }) {
    const roles = (body?.messages ?? []).map((m) => m.role);
    const bad = roles.findIndex((role, i) => role !== (i % 2 === 0 ? "user" : "assistant"));
    if (bad < 0) return undefined;
    const message =
      bad === 0
        ? 'messages: first message must use the "user" role'
        : `messages: roles must alternate between "user" and "assistant", but found multiple "${roles[bad]}" roles in a row`;
    return { status: 400, body: { type: "error", error: { type: "invalid_request_error", message } } };
  }

  private event(res: ServerResponse, name: string, data: object): void {
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
