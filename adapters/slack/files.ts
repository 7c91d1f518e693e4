import {
  type AttachmentLimits,
  downloadFile,
  hostsOf,
  type IncomingFile,
  SIGN_IN_PAGE,
} from "../../src/attachments/index.js";
import type { Logger } from "../../src/log.js";

/**
 * A file on a message, as `message` (subtype `file_share`) and `app_mention`
 * events carry it.
 * @see https://api.slack.com/types/file
 */
export interface SlackFile {
  id: string;
  name?: string | null;
  title?: string | null;
  mimetype?: string;
  size?: number;
  /** hosted, snippet and post files are Slack's; external ones (Google Drive, …) are links. */
  mode?: string;
  url_private?: string;
  url_private_download?: string;
  /** "check_file_info" for files of Slack Connect channels the event does not describe in full. */
  file_access?: string;
}

/**
 * Where Slack serves a workspace's private files. A request must carry the
 * bot token (`Authorization: Bearer xoxb-…`, with the files:read scope);
 * without it Slack answers with its sign-in page.
 * @see https://api.slack.com/types/file#auth
 */
const SLACK_FILE_HOSTS = ["files.slack.com"];

/**
 * The message's files as files for the core: each downloaded with the bot
 * token from Slack's file host (or the configured API's host), refused
 * beforehand when its `size` is over the cap (src/attachments/fetch.ts).
 */
export async function fetchSlackFiles(
  files: SlackFile[],
  token: string,
  limits: AttachmentLimits,
  apiUrl: string | undefined,
  log: Logger,
): Promise<IncomingFile[]> {
  const allowedHosts = [...SLACK_FILE_HOSTS, ...hostsOf(apiUrl)];
  const out: IncomingFile[] = [];
  for (const f of files) {
    const name = f.name || f.title || f.id;
    const meta = { name, contentType: f.mimetype, sizeBytes: f.size };
    const url = f.url_private_download ?? f.url_private;
    const hosted = f.mode !== "external" && f.mode !== "tombstone" && f.file_access !== "check_file_info";
    // Past the cap, or not a file Slack holds: only its name reaches the model.
    if (out.length >= limits.maxFiles || !hosted || !url) {
      out.push({ name, ...(f.mimetype ? { contentType: f.mimetype } : {}) });
      continue;
    }
    const file = await downloadFile(url, meta, limits, {
      allowedHosts,
      headers: { authorization: `Bearer ${token}` },
    });
    if (file.problem === SIGN_IN_PAGE)
      log.warn(
        { file: f.id },
        "Slack sent its sign-in page for a file: add the files:read scope to the app (manifest.yml) and reinstall it",
      );
    out.push(file);
  }
  return out;
}
