import type { Attachment } from "discord.js";
import type { Logger } from "../../src/log.js";

/** The most of one text file read into a message (bytes); the rest is cut with a note. */
export const MAX_ATTACHMENT_BYTES = 32_000;
/** Text files read per message; later ones are only named. */
export const MAX_TEXT_ATTACHMENTS = 4;
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Extensions read as text whatever content type Discord guessed (it labels
 * `.ts` as video/mp2t, for one).
 */
const TEXT_EXTENSIONS = new Set(
  (
    "txt md markdown rst csv tsv log json jsonl ndjson yaml yml toml ini cfg conf env xml html htm css scss " +
    "js mjs cjs jsx ts tsx py rb go rs java kt kts scala c h cc cpp hpp cs swift php pl lua r sql sh bash zsh " +
    "fish ps1 bat dockerfile makefile gradle properties diff patch tex srt vtt"
  ).split(" "),
);
const TEXT_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/x-yaml",
  "application/yaml",
  "application/toml",
  "application/javascript",
  "application/x-sh",
  "application/sql",
]);

function isTextFile(a: Attachment): boolean {
  const ext = a.name.toLowerCase().split(".").pop() ?? "";
  if (TEXT_EXTENSIONS.has(ext) || TEXT_EXTENSIONS.has(a.name.toLowerCase())) return true;
  const type = (a.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return type.startsWith("text/") || TEXT_TYPES.has(type);
}

/**
 * The message's attachments as text for the model: text files read in (each
 * capped at MAX_ATTACHMENT_BYTES) inside a code fence, anything else named so
 * the model knows it exists. Empty when there are none.
 */
export async function describeAttachments(attachments: Iterable<Attachment>, log: Logger): Promise<string> {
  const parts: string[] = [];
  let read = 0;
  for (const a of attachments) {
    if (isTextFile(a) && read < MAX_TEXT_ATTACHMENTS) {
      const file = await readText(a.url).catch((err: unknown) => {
        log.warn({ err, attachment: a.name }, "Discord: could not read an attached file");
        return undefined;
      });
      if (file !== undefined) {
        read++;
        const fence = "`".repeat(Math.max(3, longestBacktickRun(file.text) + 1));
        const cut = file.truncated
          ? ` (the first ${MAX_ATTACHMENT_BYTES} bytes of ${formatBytes(a.size)})`
          : "";
        parts.push(`Attached file ${a.name}${cut}:\n${fence}\n${file.text}\n${fence}`);
        continue;
      }
    }
    const type = a.contentType ? `${a.contentType}, ` : "";
    parts.push(`[Attached file ${a.name} (${type}${formatBytes(a.size)}); its content is not included]`);
  }
  return parts.join("\n\n");
}

/** Reads at most MAX_ATTACHMENT_BYTES; undefined when the file is not text after all. */
async function readText(url: string): Promise<{ text: string; truncated: boolean } | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`GET attachment answered ${res.status}`);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > MAX_ATTACHMENT_BYTES) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = Buffer.concat(chunks).subarray(0, MAX_ATTACHMENT_BYTES);
  if (bytes.includes(0)) return undefined;
  // stream: true drops a multi-byte character the cap cut in half instead of showing U+FFFD.
  const text = new TextDecoder("utf-8").decode(bytes, { stream: truncated });
  return { text, truncated };
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return longest;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
