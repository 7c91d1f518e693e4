import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  type Tool as McpTool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { McpServerConfig } from "../config/index.js";
import type { Logger } from "../log.js";
import type { ServerStatus } from "./types.js";

/** The last lines a stdio server wrote to stderr, kept to say why it failed. */
const STDERR_KEPT_CHARS = 2_000;

/**
 * One MCP server, through the official SDK's Client: started (a stdio
 * program) or reached (Streamable HTTP), its tools listed at start and again
 * whenever it sends `notifications/tools/list_changed`. A server that exits
 * or fails later is marked failed; its calls then fail at once.
 */
export class McpServer {
  status: ServerStatus = { state: "starting" };
  /** The server's tools as it listed them last. */
  tools: McpTool[] = [];
  private client: Client | undefined;
  private stderr = "";
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private nextRetryMs: number;
  private startTimeoutMs = 30_000;

  /**
   * `retryMs`: after a failure (at start, or the server died) it is started
   * again this long after, doubling up to 5 minutes; 0: never.
   */
  constructor(
    readonly config: McpServerConfig,
    private readonly log: Logger,
    private readonly onToolsChanged: () => void,
    private readonly retryMs = 30_000,
  ) {
    this.nextRetryMs = retryMs;
  }

  /** Connects and lists the tools; never throws (a failure is the status, and logged). */
  async start(timeoutMs: number): Promise<void> {
    this.startTimeoutMs = timeoutMs;
    this.stderr = "";
    const client = new Client({ name: "chatbot", version: "0.1.0" });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      void this.listTools().catch((err) =>
        this.log.warn({ err, server: this.config.name }, "MCP: relisting failed"),
      );
    });
    client.onclose = () => {
      if (this.status.state === "ready") this.fail("the server closed the connection");
    };
    try {
      await client.connect(this.transport(), { timeout: timeoutMs });
      if (this.closed) {
        await client.close().catch(() => undefined);
        return;
      }
      this.client = client;
      await this.listTools(timeoutMs);
      if (this.nextRetryMs !== this.retryMs) this.log.info(`MCP server ${this.config.name}: running again`);
      this.nextRetryMs = this.retryMs;
    } catch (err) {
      await client.close().catch(() => undefined);
      this.fail(reasonOf(err, this.stderr));
    }
  }

  /** Calls one tool; the SDK's errors (timeout, abort, a dead server) are thrown. */
  async call(
    name: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<CallToolResult> {
    const client = this.client;
    if (!client || this.status.state !== "ready")
      throw new Error(`the ${this.config.name} server is not running`);
    const result = await client.callTool({ name, arguments: args }, undefined, {
      signal: options.signal,
      timeout: options.timeoutMs,
      // A long call that reports progress still ends at timeoutMs.
      maxTotalTimeout: options.timeoutMs,
    });
    return result as CallToolResult;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  private async listTools(timeoutMs?: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, timeoutMs ? { timeout: timeoutMs } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    this.tools = tools;
    this.status = { state: "ready", tools: tools.length };
    this.onToolsChanged();
  }

  private fail(reason: string): void {
    this.status = { state: "failed", reason };
    this.tools = [];
    this.client = undefined;
    this.log.error({ server: this.config.name, reason }, `MCP server ${this.config.name}: ${reason}`);
    this.onToolsChanged();
    this.retryLater();
  }

  /** Starts the server again after a while (a server still installing, restarting, or down for a moment). */
  private retryLater(): void {
    if (this.closed || this.retryMs <= 0 || this.retryTimer) return;
    const delay = this.nextRetryMs;
    this.nextRetryMs = Math.min(delay * 2, 300_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.status = { state: "starting" };
      void this.start(this.startTimeoutMs);
    }, delay);
    this.retryTimer.unref();
  }

  private transport(): Transport {
    const c = this.config;
    if (c.kind === "http")
      return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
    const transport = new StdioClientTransport({
      command: c.command,
      args: c.args,
      // As Claude Desktop does: the entry's env over a safe default (PATH, HOME, ...), not ours whole.
      env: { ...getDefaultEnvironment(), ...c.env },
      ...(c.cwd ? { cwd: c.cwd } : {}),
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-STDERR_KEPT_CHARS);
    });
    return transport;
  }
}

/** Why a server could not start: the error, and the last line it wrote to stderr. */
function reasonOf(err: unknown, stderr: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const last = stderr.trim().split("\n").at(-1)?.trim();
  return last ? `${message} (stderr: ${last.slice(0, 300)})` : message;
}
