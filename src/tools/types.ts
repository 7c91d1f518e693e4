import type { ToolDefinition } from "../llm/index.js";

/**
 * A tool one MCP server offers, as the bot knows it: what the model is
 * offered (`definition`), where it lives, and whether a call needs the
 * asker's approval.
 */
export interface Tool {
  /** The MCP server's name (the config's key). */
  server: string;
  /** The tool's name on its server (what the user sees: "🔧 get-sum…"). */
  name: string;
  /** As the model is offered it; its name is `name`, or `server__name` when two servers share one. */
  definition: ToolDefinition;
  /**
   * The tool may change things: its MCP annotations say `destructiveHint:
   * true`, or do not say `readOnlyHint: true`. It runs only after the asker approves.
   * @see https://modelcontextprotocol.io/specification/2025-06-18/server/tools#tool-annotations
   */
  needsApproval: boolean;
}

/** How one server is doing, for the start-up log and /ready. */
export type ServerStatus =
  | { state: "starting" }
  | { state: "ready"; tools: number }
  | { state: "failed"; reason: string };

/** What a tool call came to, as the model is told and the turn keeps it. */
export interface ToolOutcome {
  /** The result's text (bounded: see `truncated`), or why there is none. */
  text: string;
  /** The call failed: the tool said so, timed out, its server is gone, or it was refused. */
  isError: boolean;
  /** The result was cut to the configured size. */
  truncated: boolean;
  /** A short word for the user's line and the log: "done", "error", "timeout", "refused", "unavailable". */
  status: "done" | "error" | "timeout" | "refused" | "unavailable";
}
