export { type DownloadOptions, downloadFile, hostsOf } from "./fetch.js";
export { prepareFiles } from "./prepare.js";
export type { AttachmentLimits, IncomingFile, PreparedFiles, PreparedImage } from "./types.js";
