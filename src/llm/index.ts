export { createModels, Models, type NamedModel } from "./models.js";
export { detectOllama, OLLAMA_URL } from "./ollama.js";
export type {
  ChatMessage,
  ChatModel,
  ContentPart,
  ImageMediaType,
  ProviderUsage,
  ToolCallPart,
  ToolDefinition,
} from "./types.js";
export { textOf } from "./types.js";
