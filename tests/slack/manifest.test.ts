import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** The manifest's lines without comments, each trimmed. */
const lines = readFileSync(new URL("../../adapters/slack/manifest.yml", import.meta.url), "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*$/, "").trim())
  .filter(Boolean);

/** The lines of a top-level-or-nested YAML key's block (its indented children), by indentation. */
function block(key: string): string[] {
  const raw = readFileSync(new URL("../../adapters/slack/manifest.yml", import.meta.url), "utf8").split("\n");
  const start = raw.findIndex((l) => l.replace(/#.*$/, "").trimEnd().endsWith(`${key}:`));
  if (start < 0) return [];
  const indent = (l: string) => l.length - l.trimStart().length;
  const out: string[] = [];
  for (const line of raw.slice(start + 1)) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (indent(line) <= indent(raw[start] as string)) break;
    out.push(line.replace(/#.*$/, "").trim());
  }
  return out;
}

describe("Slack app manifest", () => {
  it("asks for what the AI-app surface, native streaming and the buttons need", () => {
    expect(block("assistant_view").some((l) => l.startsWith("assistant_description:"))).toBe(true);
    const scopes = block("bot");
    for (const scope of ["chat:write", "assistant:write", "im:history", "users:read", "app_mentions:read"])
      expect(scopes).toContain(`- ${scope}`);
    const events = block("bot_events");
    for (const event of [
      "assistant_thread_started",
      "assistant_thread_context_changed",
      "message.im",
      "app_mention",
    ])
      expect(events).toContain(`- ${event}`);
    expect(block("interactivity")).toContain("is_enabled: true");
    expect(lines).toContain("socket_mode_enabled: true");
  });
});
