export { downloadFile, hostsOf, SIGN_IN_PAGE } from "./fetch.js";
export { prepareFiles } from "./prepare.js";
export { type AttachmentLimits, DEFAULT_ATTACHMENT_LIMITS, type IncomingFile } from "./types.js";
