import type { ChatMessage } from "../llm/index.js";
import type { StoredMessage } from "../memory/index.js";
import { withImages } from "./attachments.js";
import { replayRound } from "./tools.js";

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
  return history.flatMap((m): ChatMessage[] => {
    if (m.role === "assistant") return answerMessages(m);
    const said = m.filesText ? [m.text, m.filesText].filter((t) => t.length > 0).join("\n\n") : m.text;
    const content = named && m.author ? `[${m.author.name}] ${said}` : said;
    return [images ? withImages({ role: "user", content }, m, images) : { role: "user", content }];
  });
}

/**
 * An answer as the model wrote it: with tools, each round's text and calls,
 * then their stored results, in the model's own format; then the rest of the text.
 */
function answerMessages(m: StoredMessage): ChatMessage[] {
  const out: ChatMessage[] = [];
  let from = 0;
  for (const round of m.tools ?? []) {
    out.push(...replayRound(m.text.slice(from, round.at), round));
    from = round.at;
  }
  // After tool rounds the rest starts with the blank line that separated it; a plain answer is as it was.
  const rest = out.length > 0 ? m.text.slice(from).trim() : m.text;
  if (m.incomplete)
    out.push({ role: "assistant", content: rest ? rest + INCOMPLETE_MARK : INCOMPLETE_MARK.trim() });
  else if (rest || out.length === 0) out.push({ role: "assistant", content: rest });
  return out;
}
