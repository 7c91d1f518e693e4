import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatError } from "../../src/errors.js";
import { AnthropicModel } from "../../src/llm/anthropic.js";
import { OpenAIModel } from "../../src/llm/openai.js";
import type { ChatMessage, ChatModel } from "../../src/llm/types.js";
import { FakeAnthropic } from "../fakes/anthropic.js";
import type { FakeLlmServer } from "../fakes/llm-server.js";
import { FakeOpenAI } from "../fakes/openai.js";

const messages: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hello" },
];

async function run(model: ChatModel, signal?: AbortSignal): Promise<{ text: string; error?: ChatError }> {
  let text = "";
  try {
    for await (const d of model.stream(messages, { signal })) text += d;
    return { text };
  } catch (error) {
    return { text, error: error as ChatError };
  }
}

const providers = {
  openai: {
    start: () => FakeOpenAI.start(),
    model: (fake: FakeLlmServer, o: Partial<{ maxRetries: number; idleTimeoutMs: number }> = {}) =>
      new OpenAIModel({
        model: "gpt-test",
        apiKey: "sk-test-1234567890",
        baseUrl: (fake as FakeOpenAI).baseUrl,
        maxOutputTokens: 100,
        idleTimeoutMs: o.idleTimeoutMs ?? 3_000,
        maxRetries: o.maxRetries ?? 0,
        backoffMs: 5,
      }),
  },
  anthropic: {
    start: () => FakeAnthropic.start(),
    model: (fake: FakeLlmServer, o: Partial<{ maxRetries: number; idleTimeoutMs: number }> = {}) =>
      new AnthropicModel({
        model: "claude-test",
        apiKey: "sk-ant-test-1234567890",
        baseUrl: (fake as FakeAnthropic).baseUrl,
        maxOutputTokens: 100,
        idleTimeoutMs: o.idleTimeoutMs ?? 3_000,
        maxRetries: o.maxRetries ?? 0,
        backoffMs: 5,
      }),
  },
};

describe.each(Object.keys(providers) as Array<keyof typeof providers>)("%s model", (name) => {
  const p = providers[name];
  let fake: FakeLlmServer;
  beforeAll(async () => {
    fake = await p.start();
  });
  afterAll(() => fake.close());

  it("streams the answer as deltas whose join is the exact text", async () => {
    const text = "Hi 👋 — here is `code` and 日本語.\nSecond line.";
    fake.enqueue({ text });
    const deltas: string[] = [];
    for await (const d of p.model(fake).stream(messages)) deltas.push(d);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe(text);
  });

  it("sends the system prompt the provider's way", async () => {
    fake.enqueue({ text: "ok" });
    await run(p.model(fake));
    const body = fake.lastBody;
    if (name === "openai") {
      expect(body.messages).toEqual(messages);
      expect(body.stream).toBe(true);
    } else {
      expect(body.system).toBe("Be brief.");
      expect(body.messages).toEqual([{ role: "user", content: "Hello" }]);
      expect(body.max_tokens).toBe(100);
    }
  });

  it("401 becomes an auth error with a sentence for the user, not retried", async () => {
    const before = fake.requests.length;
    fake.enqueue({ status: 401 });
    const { error } = await run(p.model(fake, { maxRetries: 2 }));
    expect(error).toBeInstanceOf(ChatError);
    expect(error?.code).toBe("auth");
    expect(error?.userMessage).toMatch(/API key/);
    expect(error?.userMessage).not.toMatch(/sk-/);
    expect(fake.requests.length - before).toBe(1);
  });

  it("429 with retry-after is retried before the first token, then succeeds", async () => {
    const before = fake.requests.length;
    fake.enqueue({ status: 429, retryAfterS: 0 }, { text: "after the wait" });
    const { text, error } = await run(p.model(fake, { maxRetries: 2 }));
    expect(error).toBeUndefined();
    expect(text).toBe("after the wait");
    expect(fake.requests.length - before).toBe(2);
  });

  it("429 that outlasts the retries is a rate_limited error carrying retry-after", async () => {
    fake.enqueue({ status: 429, retryAfterS: 0 }, { status: 429, retryAfterS: 0 });
    const { error } = await run(p.model(fake, { maxRetries: 1 }));
    expect(error?.code).toBe("rate_limited");
    expect(error?.retryAfterMs).toBe(0);
  });

  it("500 is retried", async () => {
    fake.enqueue({ status: 500 }, { text: "recovered" });
    expect((await run(p.model(fake, { maxRetries: 1 }))).text).toBe("recovered");
  });

  it("a context-length rejection is context_too_long", async () => {
    const errorBody =
      name === "openai"
        ? {
            error: {
              message: "This model's maximum context length is 128000 tokens.",
              type: "invalid_request_error",
              param: "messages",
              code: "context_length_exceeded",
            },
          }
        : {
            type: "error",
            error: {
              type: "invalid_request_error",
              message: "prompt is too long: 210000 tokens > 200000 maximum",
            },
          };
    fake.enqueue({ status: 400, errorBody });
    const { error } = await run(p.model(fake));
    expect(error?.code).toBe("context_too_long");
    expect(error?.userMessage).toMatch(/reset/);
  });

  it("a connection cut mid-answer is a network error after the partial text, and is not retried", async () => {
    const before = fake.requests.length;
    fake.enqueue({ text: "one two three four five six", cutAfterChunks: 3 });
    const { text, error } = await run(p.model(fake, { maxRetries: 3 }));
    expect(text.length).toBeGreaterThan(0);
    expect("one two three four five six".startsWith(text)).toBe(true);
    expect(error?.code).toBe("network");
    expect(fake.requests.length - before).toBe(1);
  });

  it("a stall longer than the idle timeout is a timeout error (long answers with steady tokens are not cut)", async () => {
    fake.enqueue({ text: "abcdefghij", stallAfterChunks: 2 });
    const stalled = await run(p.model(fake, { idleTimeoutMs: 300 }));
    expect(stalled.error?.code).toBe("timeout");
    expect(stalled.text.length).toBeGreaterThan(0);

    // Total time well past the idle timeout, but never silent for that long.
    fake.enqueue({ text: "x".repeat(40), chunkDelayMs: 30 });
    const steady = await run(p.model(fake, { idleTimeoutMs: 300 }));
    expect(steady.error).toBeUndefined();
    expect(steady.text).toBe("x".repeat(40));
  });

  it("aborting the signal stops the request and throws aborted", async () => {
    fake.enqueue({ text: "a".repeat(200), chunkDelayMs: 10 });
    const before = fake.clientAborts;
    const controller = new AbortController();
    const model = p.model(fake);
    let text = "";
    let error: ChatError | undefined;
    try {
      for await (const d of model.stream(messages, { signal: controller.signal })) {
        text += d;
        if (text.length > 10) controller.abort();
      }
    } catch (e) {
      error = e as ChatError;
    }
    expect(error?.code).toBe("aborted");
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.clientAborts).toBeGreaterThan(before);
  });

  it("a refused connection is a network error", async () => {
    const dead = await p.start();
    await dead.close();
    const { error } = await run(p.model(dead));
    expect(error?.code).toBe("network");
  });
});

describe("anthropic specifics", () => {
  it("529 overloaded is retried", async () => {
    const fake = await FakeAnthropic.start();
    fake.enqueue({ status: 529 }, { text: "fine now" });
    expect((await run(providers.anthropic.model(fake, { maxRetries: 1 }))).text).toBe("fine now");
    await fake.close();
  });
});
