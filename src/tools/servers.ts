import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { McpServerConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import { McpServer } from "./server.js";
import type { ServerStatus, Tool, ToolOutcome } from "./types.js";

export interface ToolServersOptions {
  /** Longest one call may take (ms). */
  callTimeoutMs: number;
  /** Characters of a result kept; the rest is cut, marked. */
  maxResultChars: number;
  /** Longest a server may take to start and list its tools (ms; default 30,000). */
  startTimeoutMs?: number;
  /** A failed server is started again after this, doubling up to 5 minutes (ms; default 30,000; 0: never). */
  retryMs?: number;
}

/**
 * Every configured MCP server: started together at start-up (a server that
 * cannot start is logged and reported, the others go on), their tools as the
 * model is offered them, and calls with a timeout and a bounded result that
 * never throw: a failure is an error result for the model.
 */
export class ToolServers {
  private readonly servers: McpServer[];
  private byModelName = new Map<string, Tool>();
  private offered: Tool[] = [];

  constructor(
    configs: McpServerConfig[],
    private readonly log: Logger,
    private readonly options: ToolServersOptions,
  ) {
    this.servers = configs.map((c) => new McpServer(c, log, () => this.reindex(), options.retryMs));
  }

  /** Whether any server is configured. */
  get configured(): boolean {
    return this.servers.length > 0;
  }

  /** Every server's name. */
  get names(): string[] {
    return this.servers.map((s) => s.config.name);
  }

  /** The servers every place may use unless its settings say otherwise (`enabled_everywhere`). */
  get everywhere(): string[] {
    return this.servers.filter((s) => s.config.everywhere).map((s) => s.config.name);
  }

  /** Starts every server at once; resolves when each is ready or failed (never rejects). */
  async start(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.start(this.options.startTimeoutMs ?? 30_000)));
    for (const s of this.servers) {
      if (s.status.state === "ready")
        this.log.info(
          `Tools: ${s.config.name} ready, ${s.status.tools} tool${s.status.tools === 1 ? "" : "s"}`,
        );
    }
  }

  /** Each server's state, for /ready. */
  statuses(): Record<string, ServerStatus> {
    return Object.fromEntries(this.servers.map((s) => [s.config.name, s.status]));
  }

  /** The tools of these servers (those running), as the model is offered them. */
  tools(servers: readonly string[]): Tool[] {
    if (servers.length === 0) return [];
    const wanted = new Set(servers);
    return this.offered.filter((t) => wanted.has(t.server));
  }

  /** The tool the model named, among `offered`. */
  find(offered: readonly Tool[], modelName: string): Tool | undefined {
    const tool = this.byModelName.get(modelName);
    return tool && offered.includes(tool) ? tool : undefined;
  }

  /** Runs one call: its result, or an error result (the tool's error, a timeout, a dead server). */
  async call(tool: Tool, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
    const server = this.servers.find((s) => s.config.name === tool.server);
    if (server?.status.state !== "ready")
      return this.outcome(`The ${tool.server} tool server is not running.`, "unavailable");
    const timeoutMs = this.options.callTimeoutMs;
    try {
      const result = await server.call(tool.name, args, { signal, timeoutMs });
      const text = resultText(result);
      return this.outcome(text, result.isError ? "error" : "done");
    } catch (err) {
      if (signal.aborted) throw err;
      const e = err as { code?: unknown; message?: string };
      // The SDK's RequestTimeout is JSON-RPC error -32001.
      if (e.code === -32001)
        return this.outcome(`The tool did not answer within ${timeoutMs} ms.`, "timeout");
      const gone = server.status.state !== "ready";
      return this.outcome(
        gone
          ? `The ${tool.server} tool server stopped: ${e.message ?? String(err)}`
          : (e.message ?? String(err)),
        gone ? "unavailable" : "error",
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }

  private outcome(text: string, status: ToolOutcome["status"]): ToolOutcome {
    const max = this.options.maxResultChars;
    const truncated = text.length > max;
    return {
      text: truncated ? `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters]` : text,
      isError: status !== "done",
      truncated,
      status,
    };
  }

  /** Model names for every running server's tools: the tool's own, or `server__tool` where two share one. */
  private reindex(): void {
    const all = this.servers.flatMap((s) => s.tools.map((t) => ({ server: s.config.name, t })));
    const count = new Map<string, number>();
    for (const { t } of all) count.set(t.name, (count.get(t.name) ?? 0) + 1);
    const offered: Tool[] = all.map(({ server, t }) => {
      const shared = (count.get(t.name) ?? 0) > 1;
      const a = t.annotations;
      return {
        server,
        name: t.name,
        definition: {
          name: modelName(shared ? `${server}__${t.name}` : t.name),
          description: t.description ?? t.title ?? t.name,
          parameters: t.inputSchema as Record<string, unknown>,
        },
        needsApproval: a?.destructiveHint === true || a?.readOnlyHint !== true,
      };
    });
    this.offered = offered;
    this.byModelName = new Map(offered.map((t) => [t.definition.name, t]));
  }
}

/** Both providers accept tool names of 1-64 letters, digits, `_` and `-`. */
function modelName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "tool";
}

/** A result as text for the model: its text items, what else it holds named, else its structured content. */
function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((c) => {
    if (c.type === "text") return c.text;
    if (c.type === "resource") return "text" in c.resource ? c.resource.text : `[resource ${c.resource.uri}]`;
    if (c.type === "resource_link") return `[resource ${c.uri}]`;
    return `[${c.type}]`;
  });
  if (parts.length === 0 && result.structuredContent) return JSON.stringify(result.structuredContent);
  return parts.join("\n");
}
