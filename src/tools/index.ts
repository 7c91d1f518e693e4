export { type ApprovalQuestion, Approvals, type AskApproval } from "./approvals.js";
export { type CallDone, runToolRound } from "./round.js";
export { ToolServers } from "./servers.js";
export type { Tool } from "./types.js";
