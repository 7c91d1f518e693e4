import type { ConfigFile } from "./file.js";
import type { LlmConfig, ModelConfig } from "./types.js";

/** The environment's one model (LLM_PROVIDER, LLM_MODEL, the provider's key), when one is configured. */
export function envModels(llm: LlmConfig): ModelConfig[] {
  if (!llm.provider) return [];
  const openai = llm.provider === "openai";
  return [
    {
      name: llm.model,
      provider: llm.provider,
      model: llm.model,
      apiKey: openai ? llm.openaiApiKey : llm.anthropicApiKey,
      baseUrl: openai ? llm.openaiBaseUrl : llm.anthropicBaseUrl,
      contextTokens: llm.contextTokens,
      maxOutputTokens: llm.maxOutputTokens,
      temperature: llm.temperature,
      vision: llm.vision,
    },
  ];
}

/**
 * CONFIG_FILE's models, with keys from the environment variables they name
 * (default OPENAI_API_KEY / ANTHROPIC_API_KEY) and the environment's
 * defaults for what an entry leaves out. No `models:` in the file: the
 * environment's one model.
 */
export function modelsOf(
  file: ConfigFile,
  llm: LlmConfig,
  env: NodeJS.ProcessEnv,
  problems: string[],
): ModelConfig[] {
  if (file.models.length === 0) return envModels(llm);
  return file.models.map((m, i) => {
    const keyVariable = m.api_key_env ?? (m.provider === "openai" ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
    const apiKey = env[keyVariable]?.trim() || undefined;
    if (m.api_key_env && !apiKey) problems.push(`models[${i}].api_key_env: ${m.api_key_env} is not set`);
    else if (!apiKey && !m.base_url && !(m.provider === "openai" ? llm.openaiBaseUrl : llm.anthropicBaseUrl))
      problems.push(`models[${i}] (${m.name}): ${m.provider} needs ${keyVariable}, or a base_url`);
    return {
      name: m.name,
      provider: m.provider,
      model: m.model,
      apiKey,
      baseUrl: m.base_url ?? (m.provider === "openai" ? llm.openaiBaseUrl : llm.anthropicBaseUrl),
      contextTokens: m.context_tokens ?? llm.contextTokens,
      maxOutputTokens: m.max_output_tokens ?? llm.maxOutputTokens,
      temperature: m.temperature ?? llm.temperature,
      vision: m.vision ?? llm.vision,
      ...(m.price
        ? {
            price: {
              input: m.price.input,
              output: m.price.output,
              ...(m.price.cached_input !== undefined ? { cachedInput: m.price.cached_input } : {}),
            },
          }
        : {}),
    };
  });
}
