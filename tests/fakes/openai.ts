import type { ServerResponse } from "node:http";
import {
  argPieces,
  FakeLlmServer,
  type FakeRequestBody,
  type FakeToolCall,
  type FakeUsage,
  lastUserText,
} from "./llm-server.js";

export type { FakeReply } from "./llm-server.js";

/**
 * A fake OpenAI Chat Completions server: `POST /v1/chat/completions` with
 * `stream: true` answers `chat.completion.chunk` SSE events ending in
 * `data: [DONE]`, as the real API does. Asked with `stream_options:
 * {include_usage: true}`, every chunk carries `usage: null` and one more
 * chunk with no choices carries the usage before `[DONE]` (unless
 * `sendsUsage` is false: a compatible server that reports none). Errors use
 * OpenAI's error body.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
 */
export class FakeOpenAI extends FakeLlmServer {
  protected path = "/chat/completions";
  private id = 0;
  private model = "";
  private withUsage = false;

  private constructor() {
    super((body) => ({ text: `You said: ${lastUserText(body)}` }));
  }

  static async start(): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI();
    await fake.listen();
    return fake;
  }

  /** The base URL to give the SDK (OPENAI_BASE_URL). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  protected writeStart(res: ServerResponse, body: FakeRequestBody, usage: FakeUsage | undefined): void {
    this.id++;
    this.model = body.model ?? "fake";
    this.withUsage = usage !== undefined && this.reportsUsage(body);
    this.chunk(res, { role: "assistant", content: "" }, null);
  }

  protected writeDelta(res: ServerResponse, text: string): void {
    this.chunk(res, { content: text }, null);
  }

  /**
   * Each call opens with its index, id, type and name (arguments ""), then
   * its arguments in pieces under the same index, as the API streams them.
   * @see https://platform.openai.com/docs/guides/function-calling#streaming
   */
  protected writeToolCalls(res: ServerResponse, calls: FakeToolCall[], first: number): void {
    calls.forEach((call, index) => {
      const id = call.id ?? `call_fake${first + index}`;
      this.chunk(
        res,
        { tool_calls: [{ index, id, type: "function", function: { name: call.name, arguments: "" } }] },
        null,
      );
      for (const piece of argPieces(call.args))
        this.chunk(res, { tool_calls: [{ index, function: { arguments: piece } }] }, null);
    });
  }

  protected writeEnd(
    res: ServerResponse,
    usage: FakeUsage | undefined,
    body: FakeRequestBody,
    toolStop: boolean,
  ): void {
    this.chunk(res, {}, toolStop ? "tool_calls" : "stop");
    if (usage && this.reportsUsage(body)) {
      const prompt = usage.inputTokens + usage.cachedInputTokens + usage.cacheWriteTokens;
      this.write(res, {
        choices: [],
        usage: {
          prompt_tokens: prompt,
          completion_tokens: usage.outputTokens,
          total_tokens: prompt + usage.outputTokens,
          prompt_tokens_details: { cached_tokens: usage.cachedInputTokens, audio_tokens: 0 },
          completion_tokens_details: {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
          },
        },
      });
    }
    res.write("data: [DONE]\n\n");
  }

  protected override reportsUsage(body: FakeRequestBody): boolean {
    return body?.stream_options?.include_usage === true;
  }

  protected errorBody(status: number): unknown {
    const kinds: Record<number, [string, string | null, string]> = {
      400: ["invalid_request_error", null, "Invalid request"],
      401: ["invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-abc***xyz."],
      404: ["invalid_request_error", "model_not_found", "The model does not exist"],
      429: ["requests", "rate_limit_exceeded", "Rate limit reached for requests"],
      500: ["server_error", null, "The server had an error while processing your request."],
    };
    const [type, code, message] = kinds[status] ?? ["server_error", null, `error ${status}`];
    return { error: { message, type, param: null, code } };
  }

  private chunk(res: ServerResponse, delta: object, finishReason: string | null): void {
    this.write(res, {
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(this.withUsage ? { usage: null } : {}),
    });
  }

  private write(res: ServerResponse, fields: object): void {
    const event = {
      id: `chatcmpl-fake${this.id}`,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: this.model,
      system_fingerprint: "fp_fake",
      ...fields,
    };
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
}
