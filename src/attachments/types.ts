import type { ImageMediaType } from "../llm/index.js";

/**
 * One file of a message as an adapter hands it to the core: the bytes it
 * fetched from its platform, or why there are none (`problem`, a sentence the
 * user reads: too large, could not download).
 */
export interface IncomingFile {
  name: string;
  /** What the platform or client said the type is; the bytes are checked, not trusted. */
  contentType?: string;
  /** The whole file's size, when known (the platform's metadata, or the bytes read). */
  sizeBytes?: number;
  bytes?: Buffer;
  /** `bytes` is only the file's start (a text file read up to the cap). */
  truncated?: boolean;
  problem?: string;
}

/** What a file's metadata says before it is downloaded. */
export interface FileMeta {
  name: string;
  contentType?: string;
  /** From the platform's metadata; undefined when it does not say. */
  sizeBytes?: number;
}

/** The limits of reading attachments; from src/config/ (ATTACHMENT_*). */
export interface AttachmentLimits {
  /** Largest file read (bytes); a larger one is refused before downloading, or when reading passes it. */
  maxFileBytes: number;
  /** Files read per message; later ones are only named. */
  maxFiles: number;
  /** Images sent to the model per message. */
  maxImages: number;
  /** Characters of text kept per document (PDF, DOCX, text file). */
  maxDocumentChars: number;
}

/** An image ready for the model: scaled, re-encoded, with its new size. */
export interface PreparedImage {
  name: string;
  mediaType: ImageMediaType;
  data: Buffer;
  width: number;
  height: number;
}

/** What a message's files become. */
export interface PreparedFiles {
  /** For the model, after the question: document and text-file contents, names of what was not read. */
  text: string;
  images: PreparedImage[];
  /** Sentences for the user: a file refused, broken, or not sent. */
  notes: string[];
}

/** Used when no limits are given (tests, embedding); the configuration's defaults are the same. */
export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxFileBytes: 20 * 1024 * 1024,
  maxFiles: 5,
  maxImages: 4,
  maxDocumentChars: 50_000,
};
