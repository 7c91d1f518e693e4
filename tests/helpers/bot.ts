import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnthropicModel } from "../../src/llm/anthropic.js";
import { OpenAIModel } from "../../src/llm/openai.js";
import { silentLogger } from "../../src/log.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { Bot, type BotOptions, TurnTracker } from "../../src/turn/index.js";
import { FakeAnthropic } from "../fakes/anthropic.js";
import { FakeOpenAI } from "../fakes/openai.js";

export interface TestBot {
  bot: Bot;
  /** The turn tracker every surface of this bot shares. */
  turns: TurnTracker;
  /** The fake model server: OpenAI's, or Anthropic's with `provider: "anthropic"`. */
  fake: FakeOpenAI | FakeAnthropic;
  store: KeyvConversationStore;
  close(): Promise<void>;
}

export interface TestBotOptions {
  /** Default: a fresh SQLite file in a temp dir. */
  storeUrl?: string;
  systemPrompt?: string;
  contextTokens?: number;
  idleTimeoutMs?: number;
  maxRetries?: number;
  /** Use an existing fake instead of starting one. */
  fake?: FakeOpenAI;
  /** Which provider's SDK and fake server (default openai). */
  provider?: "openai" | "anthropic";
  /** Whether the model accepts images (LLM_VISION); default true. */
  vision?: boolean;
  botOptions?: Partial<BotOptions>;
}

/**
 * A real Bot: the real OpenAI SDK model against a FakeOpenAI on 127.0.0.1 and a
 * real SQLite store in a temp folder. For end-to-end tests of every adapter.
 */
export async function makeTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const fake =
    options.fake ??
    (options.provider === "anthropic" ? await FakeAnthropic.start() : await FakeOpenAI.start());
  const dir = mkdtempSync(join(tmpdir(), "chatbot-test-"));
  const store = createStore(options.storeUrl ?? `sqlite://${join(dir, "test.sqlite")}`, {
    maxMessages: 100,
    ttlMs: 3_600_000,
    purgeIntervalMs: 0,
  });
  const common = {
    apiKey: "sk-test-key-not-real",
    baseUrl: fake.baseUrl,
    maxOutputTokens: 512,
    idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
    maxRetries: options.maxRetries ?? 0,
    backoffMs: 10,
    vision: options.vision ?? true,
  };
  const model =
    fake instanceof FakeAnthropic
      ? new AnthropicModel({ ...common, model: "claude-test" })
      : new OpenAIModel({ ...common, model: "gpt-test" });
  const bot = new Bot({
    model,
    store,
    log: silentLogger(),
    systemPrompt: options.systemPrompt ?? "You are a test bot.",
    contextTokens: options.contextTokens ?? 8_000,
    ...options.botOptions,
  });
  return {
    bot,
    turns: new TurnTracker(silentLogger()),
    fake,
    store,
    close: async () => {
      await store.close();
      if (!options.fake) await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
