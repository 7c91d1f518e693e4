import type { Attachment } from "discord.js";
import {
  type AttachmentLimits,
  downloadFile,
  hostsOf,
  type IncomingFile,
} from "../../src/attachments/index.js";

/**
 * Where Discord serves attachments: its CDN and media proxy. A message's
 * attachment URLs point there (signed, no token needed); a test's fake
 * Discord serves them from its API base instead.
 * @see https://discord.com/developers/docs/reference#image-formatting-image-base-url
 */
const DISCORD_FILE_HOSTS = ["cdn.discordapp.com", "media.discordapp.net"];

/**
 * The message's attachments as files for the core: each downloaded from
 * Discord's file hosts within the limits, refused beforehand when Discord's
 * `size` says it is too large (src/attachments/fetch.ts).
 * @see https://discord.com/developers/docs/resources/message#attachment-object
 */
export async function fetchAttachments(
  attachments: Iterable<Attachment>,
  limits: AttachmentLimits,
  apiUrl: string | undefined,
): Promise<IncomingFile[]> {
  const allowedHosts = [...DISCORD_FILE_HOSTS, ...hostsOf(apiUrl)];
  const files: IncomingFile[] = [];
  for (const a of attachments) {
    // Files past the cap are only named; downloading them would be wasted.
    if (files.length >= limits.maxFiles) {
      files.push({ name: a.name, ...(a.contentType ? { contentType: a.contentType } : {}) });
      continue;
    }
    const meta = { name: a.name, contentType: a.contentType ?? undefined, sizeBytes: a.size };
    files.push(await downloadFile(a.url, meta, limits, { allowedHosts }));
  }
  return files;
}
