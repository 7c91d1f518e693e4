/** What a file is, judged from its first bytes first and its name and declared type second. */
export type FileKind = "image" | "pdf" | "docx" | "text" | "other";

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
const IMAGE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "webp"]);
const DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

const extensionOf = (name: string) => (name.includes(".") ? (name.toLowerCase().split(".").pop() ?? "") : "");
const baseType = (type: string | undefined) => (type ?? "").split(";")[0]!.trim().toLowerCase();

/**
 * What the name and declared type claim; used to plan the download (a text
 * file is read in part, anything else whole or not at all) and to tell a
 * lying file from an unknown one.
 */
export function claimedKind(name: string, contentType: string | undefined): FileKind {
  const ext = extensionOf(name);
  const type = baseType(contentType);
  if (type === "application/pdf" || ext === "pdf") return "pdf";
  if (type === DOCX_TYPE || ext === "docx") return "docx";
  if (IMAGE_EXTENSIONS.has(ext) || type.startsWith("image/")) return "image";
  // Extensions win over the type: Discord labels `.ts` as video/mp2t.
  if (TEXT_EXTENSIONS.has(ext) || TEXT_EXTENSIONS.has(name.toLowerCase())) return "text";
  if (type.startsWith("text/") || TEXT_TYPES.has(type)) return "text";
  return "other";
}

/** What the bytes are, by their signature; undefined when they carry none we know. */
export function sniffedKind(bytes: Buffer): "image" | "pdf" | "zip" | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image"; // PNG
  if (starts([0xff, 0xd8, 0xff])) return "image"; // JPEG
  if (starts([0x47, 0x49, 0x46, 0x38])) return "image"; // GIF8
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image"; // RIFF....WEBP
  // A PDF may have a little junk before its header; readers look within the first 1 KB.
  if (bytes.subarray(0, 1024).includes("%PDF-")) return "pdf";
  if (starts([0x50, 0x4b, 0x03, 0x04])) return "zip";
  return undefined;
}

/** The content type to show for a file: the declared one, else nothing. */
export function shownType(contentType: string | undefined): string | undefined {
  const type = baseType(contentType);
  return type === "" ? undefined : type;
}
