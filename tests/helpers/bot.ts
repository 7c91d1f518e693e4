import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessConfig, McpServerConfig } from "../../src/config/index.js";
import { AnthropicModel } from "../../src/llm/anthropic.js";
import { Models, type NamedModel } from "../../src/llm/index.js";
import { OpenAIModel } from "../../src/llm/openai.js";
import { type Logger, silentLogger } from "../../src/log.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { Access, PlaceSettings } from "../../src/settings/index.js";
import { Approvals, ToolServers } from "../../src/tools/index.js";
import { Bot, type BotOptions, TurnTracker } from "../../src/turn/index.js";
import { UsageMeter, type UsageMeterOptions } from "../../src/usage/index.js";
import { FakeAnthropic } from "../fakes/anthropic.js";
import { FakeOpenAI } from "../fakes/openai.js";

export interface TestBot {
  bot: Bot;
  /** The turn tracker every surface of this bot shares. */
  turns: TurnTracker;
  /** Per-place settings over the same store (the Bot reads them); operator defaults: the test models. */
  settings: PlaceSettings;
  /** Everyone may use it (unless `access` says otherwise); `admins` may configure it. */
  access: Access;
  /** The default model's fake server: OpenAI's, or Anthropic's with `provider: "anthropic"`. */
  fake: FakeOpenAI | FakeAnthropic;
  /** Counts every turn in the store's counters; limits and prices from TestBotOptions.usage. */
  usage: UsageMeter;
  store: KeyvConversationStore;
  /** The MCP servers (TestBotOptions.tools), started; absent without them. */
  tools?: ToolServers;
  /** Open approval questions; the adapters' buttons answer them. */
  approvals: Approvals;
  close(): Promise<void>;
}

/** MCP servers the test bot starts, and the tool loop's bounds. */
export interface TestTools {
  servers: McpServerConfig[];
  /** Default 10,000 ms. */
  callTimeoutMs?: number;
  /** Default 5. */
  maxRounds?: number;
  /** Default 10,000 ms. */
  approvalTimeoutMs?: number;
  /** Default 4,000. */
  maxResultChars?: number;
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
  /** Which provider's SDK and fake server the default model uses (default openai: "gpt-test"; anthropic: "claude-test"). */
  provider?: "openai" | "anthropic";
  /** Whether the default model accepts images (LLM_VISION); default true. */
  vision?: boolean;
  /** Operator admins (CONFIG_FILE `admins:`). */
  admins?: string[];
  /**
   * A second model, "claude-test" on this fake Anthropic, beside the default
   * "gpt-test" on the fake OpenAI (as a CONFIG_FILE with two models would give).
   */
  anthropic?: FakeAnthropic;
  /** Operator access lists (default: everyone everywhere). */
  access?: Partial<AccessConfig>;
  /** The operator's limits, prices (by model name: gpt-test, claude-test), currency and clock. */
  usage?: Omit<UsageMeterOptions, "counters" | "isExempt">;
  botOptions?: Partial<BotOptions>;
  /** MCP servers to start (as the bot does at start-up) and let the model call. */
  tools?: TestTools;
}

/**
 * A real Bot: the real SDK models against fake servers on 127.0.0.1 and a
 * real SQLite store in a temp folder, with per-place settings and access. For
 * end-to-end tests of every adapter.
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
    maxOutputTokens: 512,
    idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
    maxRetries: options.maxRetries ?? 0,
    backoffMs: 10,
  };
  const contextTokens = options.contextTokens ?? 8_000;
  const vision = options.vision ?? true;
  const entries: NamedModel[] =
    fake instanceof FakeAnthropic
      ? [
          {
            name: "claude-test",
            model: new AnthropicModel({ ...common, baseUrl: fake.baseUrl, vision, model: "claude-test" }),
            contextTokens,
          },
        ]
      : [
          {
            name: "gpt-test",
            model: new OpenAIModel({ ...common, baseUrl: fake.baseUrl, vision, model: "gpt-test" }),
            contextTokens,
          },
        ];
  if (options.anthropic) {
    const claude = new AnthropicModel({
      ...common,
      baseUrl: options.anthropic.baseUrl,
      vision: true,
      model: "claude-test-model",
      maxRetries: 0,
    });
    entries.push({ name: "claude-test", model: claude, contextTokens });
  }
  const models = new Models(entries);
  const systemPrompt = options.systemPrompt ?? "You are a test bot.";
  const admins = options.admins ?? [];
  const usage = new UsageMeter({
    counters: store.coordination.counters,
    ...options.usage,
    isExempt: (id) => admins.includes(id),
  });
  const approvals = new Approvals();
  const t = options.tools;
  const tools = t
    ? new ToolServers(t.servers, options.log ?? silentLogger(), {
        callTimeoutMs: t.callTimeoutMs ?? 10_000,
        maxResultChars: t.maxResultChars ?? 4_000,
      })
    : undefined;
  await tools?.start();
  const settings = new PlaceSettings(
    store.state,
    {
      model: models.default?.name,
      prompt: systemPrompt,
      models: models.names,
      limits: usage.defaults,
      currency: usage.currency,
      priced: usage.priced,
      ...(tools ? { toolServers: { names: tools.names, everywhere: tools.everywhere } } : {}),
    },
    options.log ?? silentLogger(),
  );
  const bot = new Bot({
    // botOptions.model (null: no model configured) replaces the test models.
    ...(options.botOptions && "model" in options.botOptions ? {} : { models }),
    store,
    log: silentLogger(),
    systemPrompt,
    settings,
    usage,
    ...(tools
      ? {
          tools: {
            servers: tools,
            approvals,
            maxRounds: t?.maxRounds ?? 5,
            approvalTimeoutMs: t?.approvalTimeoutMs ?? 10_000,
          },
        }
      : {}),
    ...options.botOptions,
  });
  const access = new Access(
    {
      ...{ allowUsers: [], blockUsers: [], allowChannels: [], blockChannels: [], allowRoles: [], dms: true },
      ...options.access,
    },
    admins,
  );
  return {
    bot,
    turns: new TurnTracker(silentLogger()),
    settings,
    access,
    usage,
    fake,
    store,
    ...(tools ? { tools } : {}),
    approvals,
    close: async () => {
      await tools?.close();
      await store.close();
      if (!options.fake) await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
