import type { AttachmentLimits, IncomingFile } from "../../src/attachments/index.js";
import { WebError } from "./http.js";

/** What the web accepts in `attachments`: the Bot's per-file limits and the request's total. */
export interface UploadLimits extends Pick<AttachmentLimits, "maxFileBytes" | "maxFiles"> {
  /** Decoded bytes of all attachments of one request (WEB_MAX_UPLOAD_MB); 0 refuses attachments. */
  maxUploadBytes: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_NAME_CHARS = 255;

/**
 * The request body limit: the message (JSON escapes make up to 6 bytes per
 * character) plus the attachments as base64 (4 bytes per 3), and room for
 * the rest. Named so other body limits (per route, per client) can build on it.
 */
export function chatBodyLimitBytes(maxMessageChars: number, maxUploadBytes: number): number {
  return Math.max(1024 * 1024, maxMessageChars * 6 + Math.ceil(maxUploadBytes / 3) * 4 + 64 * 1024);
}

/**
 * `attachments: [{name, content_type, data}]` (data: base64) as files for the
 * core; a malformed list gets a 400 naming what is wrong, a file over a limit
 * a 413. The bytes are checked when read, not trusted: a "PNG" that is not
 * one becomes a note in the answer.
 */
export function parseAttachments(value: unknown, limits: UploadLimits): IncomingFile[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad("attachments must be a list of {name, content_type, data}.");
  if (value.length === 0) return [];
  if (limits.maxUploadBytes === 0)
    throw new WebError(400, "attachments_disabled", "This server does not accept attachments.");
  if (value.length > limits.maxFiles)
    throw new WebError(
      413,
      "too_many_attachments",
      `attachments has ${value.length} files; the limit is ${limits.maxFiles}.`,
    );
  let total = 0;
  return value.map((item, i) => {
    const where = `attachments[${i}]`;
    if (item === null || typeof item !== "object" || Array.isArray(item))
      throw bad(`${where} must be an object like {"name", "content_type", "data"}.`);
    const { name, content_type: type, data } = item as Record<string, unknown>;
    if (typeof name !== "string" || name.trim() === "" || name.length > MAX_NAME_CHARS)
      throw bad(`${where}.name must be a file name of 1 to ${MAX_NAME_CHARS} characters.`);
    if (type !== undefined && type !== null && typeof type !== "string")
      throw bad(`${where}.content_type must be a string like "image/png".`);
    if (typeof data !== "string" || data.length % 4 !== 0 || !BASE64.test(data))
      throw bad(`${where}.data must be the file's bytes in base64 (no data: prefix).`);
    const sizeBytes = (data.length / 4) * 3 - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
    if (sizeBytes > limits.maxFileBytes)
      throw new WebError(
        413,
        "attachment_too_large",
        `${where} (${name}) is ${sizeBytes} bytes; the limit is ${limits.maxFileBytes} per file.`,
      );
    total += sizeBytes;
    if (total > limits.maxUploadBytes)
      throw new WebError(
        413,
        "attachments_too_large",
        `The attachments add up to more than ${limits.maxUploadBytes} bytes, the limit per request.`,
      );
    return {
      name: name.trim(),
      ...(typeof type === "string" && type !== "" ? { contentType: type } : {}),
      sizeBytes,
      bytes: Buffer.from(data, "base64"),
    };
  });
}

const bad = (message: string) => new WebError(400, "invalid_attachments", message);
