import type { ServerResponse } from "node:http";
import { FakeLlmServer, lastUserText } from "./llm-server.js";

export type { FakeReply } from "./llm-server.js";

/**
 * A fake OpenAI Chat Completions server: `POST /v1/chat/completions` with
 * `stream: true` answers `chat.completion.chunk` SSE events ending in
 * `data: [DONE]`, as the real API does. Errors use OpenAI's error body.
 */
export class FakeOpenAI extends FakeLlmServer {
  protected path = "/chat/completions";
  private id = 0;
  private model = "";

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

  protected writeStart(res: ServerResponse, body: { model?: string }): void {
    this.id++;
    this.model = body.model ?? "fake";
    this.chunk(res, { role: "assistant", content: "" }, null);
  }

  protected writeDelta(res: ServerResponse, text: string): void {
    this.chunk(res, { content: text }, null);
  }

  protected writeEnd(res: ServerResponse): void {
    this.chunk(res, {}, "stop");
    res.write("data: [DONE]\n\n");
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
    const event = {
      id: `chatcmpl-fake${this.id}`,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: this.model,
      system_fingerprint: "fp_fake",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
}
