import { mapSdkError } from "./errors.js";
import { resilientStream } from "./resilience.js";
import type {
  ChatMessage,
  ChatModel,
  ProviderUsage,
  StreamOptions,
  ToolCallPart,
  ToolDefinition,
} from "./types.js";

/** The tools of one request, for a provider to offer, and where the calls it streams go. */
export interface ToolRequest {
  tools: ToolDefinition[];
  choice: "auto" | "none";
  onCalls: (calls: ToolCallPart[]) => void;
}

/** Settings shared by the models built on an official SDK. */
export interface SdkModelOptions {
  model: string;
  /** Not needed by local servers such as Ollama; a placeholder is sent then. */
  apiKey?: string;
  /** The provider's API by default; any compatible server otherwise. */
  baseUrl?: string;
  temperature?: number;
  maxOutputTokens: number;
  /** Longest silence between two deltas (ms). */
  idleTimeoutMs: number;
  /** Retries of transient failures before the first delta. */
  maxRetries: number;
  /** First retry backoff (ms). */
  backoffMs?: number;
  /** Whether the model accepts images (default true); see ChatModel.vision. */
  vision?: boolean;
}

/**
 * A ChatModel over an official SDK: subclasses make one streaming request
 * (`once`); retries before the first token, the idle timeout, abort and error
 * mapping are the same for every provider (src/llm/resilience.ts).
 */
export abstract class SdkModel implements ChatModel {
  abstract readonly provider: string;
  readonly model: string;
  readonly vision: boolean;

  constructor(protected readonly options: SdkModelOptions) {
    this.model = options.model;
    this.vision = options.vision ?? true;
  }

  stream(messages: ChatMessage[], options: StreamOptions = {}): AsyncIterable<string> {
    const report = options.onUsage ?? (() => undefined);
    const tools: ToolRequest = {
      tools: options.tools ?? [],
      choice: options.toolChoice ?? "auto",
      onCalls: options.onToolCalls ?? (() => undefined),
    };
    return resilientStream((signal) => this.once(messages, signal, report, tools), {
      maxRetries: this.options.maxRetries,
      idleTimeoutMs: this.options.idleTimeoutMs,
      backoffMs: this.options.backoffMs,
      mapError: (err) => mapSdkError(err, this.provider),
      signal: options.signal,
    });
  }

  /**
   * One streaming request; yields text deltas, `report`s what the provider
   * says it used, hands the tool calls the model asked for to `tools.onCalls`
   * once they are whole; throws the SDK's errors.
   */
  protected abstract once(
    messages: ChatMessage[],
    signal: AbortSignal,
    report: (usage: ProviderUsage) => void,
    tools: ToolRequest,
  ): AsyncGenerator<string>;
}
