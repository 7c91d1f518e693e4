import type { LlmConfig, ModelConfig } from "../config/index.js";
import { AnthropicModel } from "./anthropic.js";
import { OpenAIModel } from "./openai.js";
import type { ChatModel } from "./types.js";

/** One model the operator listed, by its short name, with what a turn needs to use it. */
export interface NamedModel {
  /** The operator's short name (`/chatbot model <name>`), in logs and metrics. */
  name: string;
  model: ChatModel;
  /** Input budget (system prompt + history) in tokens. */
  contextTokens: number;
}

/**
 * The models the bot may use, by name, across providers at once: OpenAI,
 * any OpenAI-compatible server (each with its own base URL) and Anthropic.
 * One client per entry, made once.
 */
export class Models {
  private readonly byName = new Map<string, NamedModel>();
  /** The model places use unless set otherwise; undefined when none is configured. */
  readonly default: NamedModel | undefined;

  constructor(entries: NamedModel[], defaultName?: string) {
    for (const entry of entries) this.byName.set(entry.name, entry);
    this.default = (defaultName ? this.byName.get(defaultName) : undefined) ?? entries[0];
  }

  /** The model named `name`, if the operator lists it. */
  get(name: string): NamedModel | undefined {
    return this.byName.get(name);
  }

  /** Every listed name, the default first. */
  get names(): string[] {
    const names = [...this.byName.keys()];
    const first = this.default?.name;
    return first ? [first, ...names.filter((n) => n !== first)] : names;
  }
}

/** A client for one configured model, through its provider's official SDK. */
export function createChatModel(
  entry: ModelConfig,
  llm: Pick<LlmConfig, "idleTimeoutMs" | "maxRetries">,
): ChatModel {
  const options = {
    model: entry.model,
    apiKey: entry.apiKey,
    baseUrl: entry.baseUrl,
    temperature: entry.temperature,
    maxOutputTokens: entry.maxOutputTokens,
    idleTimeoutMs: llm.idleTimeoutMs,
    maxRetries: llm.maxRetries,
    vision: entry.vision,
  };
  return entry.provider === "anthropic" ? new AnthropicModel(options) : new OpenAIModel(options);
}

/** The configured models as a registry. */
export function createModels(
  entries: ModelConfig[],
  defaultName: string | undefined,
  llm: Pick<LlmConfig, "idleTimeoutMs" | "maxRetries">,
): Models {
  return new Models(
    entries.map((e) => ({ name: e.name, model: createChatModel(e, llm), contextTokens: e.contextTokens })),
    defaultName,
  );
}
