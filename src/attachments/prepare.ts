import { type DocumentText, docxText, pdfText, plainText, UnreadableDocumentError } from "./document.js";
import { prepareImage, UnreadableImageError } from "./image.js";
import { claimedKind, type FileKind, shownType, sniffedKind } from "./sniff.js";
import type { AttachmentLimits, FileMeta, IncomingFile, PreparedFiles, PreparedImage } from "./types.js";

/** The most of one text file read into a message (bytes); the rest is cut with a note. */
export const MAX_TEXT_FILE_BYTES = 32_000;
/** Files decoded at once in this process: images and PDFs take CPU and memory; more wait their turn. */
const MAX_CONCURRENT = 2;

/** How an adapter should download a file, decided from its metadata before any byte is read. */
export type DownloadPlan =
  /** Read at most `maxBytes`; `partial`: keep what was read when the file is longer (text), else refuse it. */
  | { action: "read"; maxBytes: number; partial: boolean }
  /** Do not download: `problem` is the sentence the user reads (too large). */
  | { action: "refuse"; problem: string }
  /** Not a kind the bot reads: only its name reaches the model. */
  | { action: "skip" };

/** Decides, from what the platform says of a file, whether and how much of it to download. */
export function planDownload(meta: FileMeta, limits: AttachmentLimits): DownloadPlan {
  const kind = claimedKind(meta.name, meta.contentType);
  if (kind === "other") return { action: "skip" };
  if (kind === "text") return { action: "read", maxBytes: MAX_TEXT_FILE_BYTES, partial: true };
  if (meta.sizeBytes !== undefined && meta.sizeBytes > limits.maxFileBytes)
    return { action: "refuse", problem: tooLarge(meta.sizeBytes, limits.maxFileBytes) };
  return { action: "read", maxBytes: limits.maxFileBytes, partial: false };
}

/** The sentence for a file over the cap ("is 31.0 MB; I read files up to 20.0 MB"). */
export function tooLarge(sizeBytes: number | undefined, maxBytes: number): string {
  return sizeBytes === undefined
    ? `is larger than ${formatBytes(maxBytes)}, the most I read`
    : `is ${formatBytes(sizeBytes)}; I read files up to ${formatBytes(maxBytes)}`;
}

/**
 * A message's files as model input: images scaled (src/attachments/image.ts),
 * PDF, Word and text files as text in fences, everything else named, each
 * within `limits`. Never throws for a bad file: it becomes a note for the
 * user and a line for the model, so the question is still answered.
 */
export async function prepareFiles(files: IncomingFile[], limits: AttachmentLimits): Promise<PreparedFiles> {
  const blocks: string[] = [];
  const images: PreparedImage[] = [];
  const notes: string[] = [];
  let skippedImages = 0;
  for (const [i, file] of files.entries()) {
    if (i >= limits.maxFiles) {
      blocks.push(`[Attached file ${file.name}; not read: only ${limits.maxFiles} files per message are]`);
      if (i === limits.maxFiles) notes.push(`I read only the first ${limits.maxFiles} files of a message.`);
      continue;
    }
    if (file.problem !== undefined || file.bytes === undefined) {
      if (file.problem !== undefined) {
        notes.push(`${file.name} ${file.problem}.`);
        blocks.push(`[Attached file ${file.name}; not read: it ${file.problem}]`);
      } else blocks.push(named(file));
      continue;
    }
    const bytes = file.bytes;
    const claimed = claimedKind(file.name, file.contentType);
    const kind: FileKind = kindOf(claimed, sniffedKind(bytes));
    try {
      await slots.take();
      if (kind === "image") {
        if (images.length >= limits.maxImages) {
          skippedImages++;
          blocks.push(
            `[Attached image ${file.name}; not sent: only ${limits.maxImages} images per message are]`,
          );
          continue;
        }
        const image = await prepareImage(file.name, bytes);
        images.push(image);
        blocks.push(`[Attached image ${file.name}]`);
      } else if (kind === "pdf") {
        blocks.push(fenced(file.name, await pdfText(bytes, limits.maxDocumentChars), "PDF", notes));
      } else if (kind === "docx") {
        blocks.push(fenced(file.name, await docxText(bytes, limits.maxDocumentChars), "Word", notes));
      } else if (kind === "text") {
        const text = plainText(bytes, file.truncated === true, limits.maxDocumentChars);
        if (text) blocks.push(textFile(file, text));
        else blocks.push(named(file));
      } else if (claimed === "image" || claimed === "pdf" || claimed === "docx") {
        // Named .png or sent as application/pdf, but the bytes are something else.
        const what = claimed === "image" ? "an image" : claimed === "pdf" ? "a PDF" : "a Word document";
        notes.push(`${file.name} is not ${what} I can read.`);
        blocks.push(`[Attached file ${file.name}; not read: it is not ${what}]`);
      } else blocks.push(named(file));
    } catch (err) {
      if (!(err instanceof UnreadableImageError || err instanceof UnreadableDocumentError)) throw err;
      notes.push(`${file.name} ${err.reason}.`);
      blocks.push(`[Attached file ${file.name}; not read: it ${err.reason}]`);
    } finally {
      slots.give();
    }
  }
  if (skippedImages > 0)
    notes.push(`I looked at only the first ${limits.maxImages} images; ${skippedImages} more were not sent.`);
  return { text: blocks.join("\n\n"), images, notes };
}

/** The bytes decide between image, PDF and Word; the claim decides for text and unknown bytes. */
function kindOf(claimed: FileKind, sniffed: ReturnType<typeof sniffedKind>): FileKind {
  if (sniffed === "image" || sniffed === "pdf") return sniffed;
  if (sniffed === "zip" && claimed === "docx") return "docx";
  if (claimed === "text" && sniffed === undefined) return "text";
  return "other";
}

function fenced(name: string, doc: DocumentText, what: string, notes: string[]): string {
  if (doc.text.trim() === "") {
    notes.push(`${name} has no text I can read (a scan or only images?).`);
    return `[Attached file ${name}; a ${what} document with no text]`;
  }
  const pages = doc.pages === undefined ? "" : `, ${doc.pages} page${doc.pages === 1 ? "" : "s"}`;
  const cut = doc.truncated ? `, the first ${doc.text.length} characters of its text` : "";
  return `Attached file ${name} (${what}${pages}${cut}):\n${fence(doc.text)}`;
}

function textFile(file: IncomingFile, doc: DocumentText): string {
  const whole = file.sizeBytes === undefined ? "more" : formatBytes(file.sizeBytes);
  const cut = file.truncated
    ? ` (the first ${MAX_TEXT_FILE_BYTES} bytes of ${whole})`
    : doc.truncated
      ? ` (the first ${doc.text.length} characters)`
      : "";
  return `Attached file ${file.name}${cut}:\n${fence(doc.text)}`;
}

function named(file: IncomingFile): string {
  const type = shownType(file.contentType);
  const bytes = file.sizeBytes ?? file.bytes?.length;
  const size = bytes === undefined ? undefined : formatBytes(bytes);
  const about = [type, size].filter(Boolean).join(", ");
  return `[Attached file ${file.name}${about ? ` (${about})` : ""}; its content is not included]`;
}

function fence(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const f = "`".repeat(Math.max(3, longest + 1));
  return `${f}\n${text}\n${f}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A counting semaphore: at most MAX_CONCURRENT files decoded at once in this process. */
const slots = (() => {
  let free = MAX_CONCURRENT;
  const waiting: Array<() => void> = [];
  return {
    take: () =>
      free > 0
        ? Promise.resolve(void free--)
        : new Promise<void>((resolve) => {
            waiting.push(resolve);
          }),
    give: () => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
})();
