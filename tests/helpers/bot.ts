import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessConfig } from "../../src/config/index.js";
import { AnthropicModel } from "../../src/llm/anthropic.js";
import { Models, type NamedModel } from "../../src/llm/index.js";
import { OpenAIModel } from "../../src/llm/openai.js";
import { type Logger, silentLogger } from "../../src/log.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { Access, PlaceSettings } from "../../src/settings/index.js";
import { Bot, type BotOptions, TurnTracker } from "../../src/turn/index.js";
import type { FakeAnthropic } from "../fakes/anthropic.js";
import { FakeOpenAI } from "../fakes/openai.js";

export interface TestBot {
  bot: Bot;
  /** The turn tracker every surface of this bot shares. */
  turns: TurnTracker;
  /** Per-place settings over the same store (the Bot reads them); operator defaults: the one test model. */
  settings: PlaceSettings;
  /** Everyone may use it; `admins` (TestBotOptions) may configure it. */
  access: Access;
  fake: FakeOpenAI;
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
  /** Where the settings' audit lines go (default: nowhere). */
  log?: Logger;
  /** Use an existing fake instead of starting one. */
  fake?: FakeOpenAI;
  /** Operator admins (CONFIG_FILE `admins:`). */
  admins?: string[];
  /**
   * A second model, "claude-test" on this fake Anthropic, beside the default
   * "gpt-test" on the fake OpenAI (as a CONFIG_FILE with two models would give).
   */
  anthropic?: FakeAnthropic;
  /** Operator access lists (default: everyone everywhere). */
  access?: Partial<AccessConfig>;
  botOptions?: Partial<BotOptions>;
}

/**
 * A real Bot: the real OpenAI SDK model against a FakeOpenAI on 127.0.0.1 and a
 * real SQLite store in a temp folder. For end-to-end tests of every adapter.
 */
export async function makeTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const fake = options.fake ?? (await FakeOpenAI.start());
  const dir = mkdtempSync(join(tmpdir(), "chatbot-test-"));
  const store = createStore(options.storeUrl ?? `sqlite://${join(dir, "test.sqlite")}`, {
    maxMessages: 100,
    ttlMs: 3_600_000,
    purgeIntervalMs: 0,
  });
  const model = new OpenAIModel({
    model: "gpt-test",
    apiKey: "sk-test-key-not-real",
    baseUrl: fake.baseUrl,
    maxOutputTokens: 512,
    idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
    maxRetries: options.maxRetries ?? 0,
    backoffMs: 10,
  });
  const systemPrompt = options.systemPrompt ?? "You are a test bot.";
  const contextTokens = options.contextTokens ?? 8_000;
  const entries: NamedModel[] = [{ name: "gpt-test", model, contextTokens }];
  if (options.anthropic) {
    const claude = new AnthropicModel({
      model: "claude-test-model",
      apiKey: "sk-ant-test-not-real",
      baseUrl: options.anthropic.baseUrl,
      maxOutputTokens: 512,
      idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
      maxRetries: 0,
      backoffMs: 10,
    });
    entries.push({ name: "claude-test", model: claude, contextTokens });
  }
  const models = new Models(entries, "gpt-test");
  const settings = new PlaceSettings(
    store.state,
    { model: "gpt-test", prompt: systemPrompt, models: models.names },
    options.log ?? silentLogger(),
  );
  const bot = new Bot({
    // botOptions.model (null: no model configured) replaces the test models.
    ...(options.botOptions && "model" in options.botOptions ? {} : { models }),
    store,
    log: silentLogger(),
    systemPrompt,
    settings,
    ...options.botOptions,
  });
  const access = new Access(
    {
      ...{ allowUsers: [], blockUsers: [], allowChannels: [], blockChannels: [], allowRoles: [], dms: true },
      ...options.access,
    },
    options.admins ?? [],
  );
  return {
    bot,
    turns: new TurnTracker(silentLogger()),
    settings,
    access,
    fake,
    store,
    close: async () => {
      await store.close();
      if (!options.fake) await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
