import type { ChatMessage } from "../llm/index.js";
import type { StoredMessage } from "../memory/index.js";
import { withImages } from "./attachments.js";

/** Appended to an interrupted answer when it is sent back to the model as history. */
export const INCOMPLETE_MARK = "\n\n[this answer was interrupted]";

/**
 * Stored messages as the model sees them. When more than one person speaks,
 * each user message starts with `[Name]` so the model knows who said what.
 * With `images` (the bytes of kept images, by id), a user message's images
 * follow its text as image parts.
 */
export function toModelMessages(history: StoredMessage[], images?: Map<string, string>): ChatMessage[] {
  const authors = new Set(history.filter((m) => m.role === "user").map((m) => m.author?.id ?? ""));
  const named = authors.size > 1;
  return history.map((m) => {
    if (m.role === "assistant") {
      if (!m.incomplete) return { role: "assistant", content: m.text };
      return { role: "assistant", content: m.text ? m.text + INCOMPLETE_MARK : INCOMPLETE_MARK.trim() };
    }
    const said = m.filesText ? [m.text, m.filesText].filter((t) => t.length > 0).join("\n\n") : m.text;
    const content = named && m.author ? `[${m.author.name}] ${said}` : said;
    return images ? withImages({ role: "user", content }, m, images) : { role: "user", content };
  });
}
