/** Where Ollama listens by default. */
export const OLLAMA_URL = "http://127.0.0.1:11434";

/**
 * Asks a local Ollama which models it has. Resolves to the first model's name,
 * or undefined when nothing answers (or it has no model) within `timeoutMs`.
 */
export async function detectOllama(baseUrl = OLLAMA_URL, timeoutMs = 700): Promise<string | undefined> {
  try {
    const res = await fetch(`${baseUrl}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { models?: Array<{ name?: string }> };
    return body.models?.find((m) => m.name)?.name;
  } catch {
    return undefined;
  }
}
