import type { LlmConfig } from "../config/index.js";
import { AnthropicModel } from "./anthropic.js";
import { OpenAIModel } from "./openai.js";
import type { ChatModel } from "./types.js";

export type { ChatMessage, ChatModel, ContentPart, ImageMediaType } from "./types.js";

/** The model the configuration names, or null when no provider is configured. */
export function createModel(llm: LlmConfig): ChatModel | null {
  const common = {
    model: llm.model,
    temperature: llm.temperature,
    maxOutputTokens: llm.maxOutputTokens,
    idleTimeoutMs: llm.idleTimeoutMs,
    maxRetries: llm.maxRetries,
    vision: llm.vision,
  };
  if (llm.provider === "openai")
    return new OpenAIModel({ ...common, apiKey: llm.openaiApiKey, baseUrl: llm.openaiBaseUrl });
  if (llm.provider === "anthropic")
    return new AnthropicModel({ ...common, apiKey: llm.anthropicApiKey, baseUrl: llm.anthropicBaseUrl });
  return null;
}
export { detectOllama, OLLAMA_URL } from "./ollama.js";
