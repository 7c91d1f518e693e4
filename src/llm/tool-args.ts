/**
 * A tool call's arguments as the model streamed them (a JSON string, pieces
 * joined): an object, `{}` when empty. A model that wrote something else gets
 * it back under `_unparsed`, so the tool (and its error) can say what was wrong.
 */
export function parseArgs(json: string): Record<string, unknown> {
  if (json.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(json);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    return { _unparsed: json };
  } catch {
    return { _unparsed: json };
  }
}
