import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import type { McpServerConfig } from "../../src/config/index.js";

/**
 * `@modelcontextprotocol/server-everything` as a user configures it: command
 * `node`, args its installed entry and `stdio`.
 */
export function everythingServer(name = "everything", everywhere = true): McpServerConfig {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@modelcontextprotocol/server-everything/package.json");
  return {
    name,
    kind: "stdio",
    command: process.execPath,
    args: [join(dirname(pkg), "dist", "index.js"), "stdio"],
    env: {},
    everywhere,
  };
}

/** What the test's HTTP MCP server saw. */
export interface HttpMcp {
  url: string;
  config(name?: string, everywhere?: boolean): McpServerConfig;
  /** Each call, in order: the tool's name and arguments. */
  calls: Array<{ name: string; args: Record<string, unknown> }>;
  /** Notes `add-note` wrote (it changes things: approval needed). */
  notes: string[];
  /** Calls of `hang` that saw their request cancelled. */
  cancelled: number;
  /** Calls of `wait` running now; `release()` lets them all answer "waited". */
  waiting: number;
  release(): void;
  /** Adds a tool to every session (the SDK sends notifications/tools/list_changed). */
  addTool(name: string, text: string): void;
  close(): Promise<void>;
}

/**
 * A Streamable HTTP MCP server on 127.0.0.1 built with the SDK's McpServer
 * and StreamableHTTPServerTransport (one session per client). Its tools:
 * `lookup` (read-only), `add-note` (destructive: needs approval), `hang`
 * (never answers until cancelled), `wait` (answers once the test releases it), and `meet` (read-only: waits until `n`
 * calls of it are running at once, so only parallel calls can finish).
 */
export async function startHttpMcp(port = 0): Promise<HttpMcp> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const servers: McpServer[] = [];
  const state: HttpMcp = {
    url: "",
    config: (name = "notes", everywhere = true) => ({
      name,
      kind: "http",
      url: state.url,
      headers: {},
      everywhere,
    }),
    calls: [],
    notes: [],
    cancelled: 0,
    waiting: 0,
    release: () => {
      for (const r of held.splice(0)) r();
    },
    addTool: (name, text) => {
      extra.push({ name, text });
      for (const s of servers) registerExtra(s, name, text);
    },
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  const extra: Array<{ name: string; text: string }> = [];
  const held: Array<() => void> = [];
  let meeting: { want: number; arrived: number; release: () => void; all: Promise<void> } | undefined;

  const build = (): McpServer => {
    const server = new McpServer({ name: "test-notes", version: "1.0.0" });
    server.registerTool(
      "lookup",
      {
        description: "Looks a key up",
        inputSchema: { key: z.string() },
        annotations: { readOnlyHint: true },
      },
      async ({ key }) => {
        state.calls.push({ name: "lookup", args: { key } });
        return { content: [{ type: "text", text: `The value of ${key} is 42.` }] };
      },
    );
    server.registerTool(
      "add-note",
      {
        description: "Adds a note",
        inputSchema: { text: z.string() },
        annotations: { destructiveHint: true, readOnlyHint: false },
      },
      async ({ text }) => {
        state.calls.push({ name: "add-note", args: { text } });
        state.notes.push(text);
        return { content: [{ type: "text", text: `Noted: ${text}` }] };
      },
    );
    server.registerTool(
      "hang",
      { description: "Never answers", inputSchema: {}, annotations: { readOnlyHint: true } },
      async (_args, extraInfo) => {
        state.calls.push({ name: "hang", args: {} });
        await new Promise<void>((resolve) => {
          extraInfo.signal.addEventListener("abort", () => {
            state.cancelled++;
            resolve();
          });
        });
        return { content: [{ type: "text", text: "too late" }] };
      },
    );
    server.registerTool(
      "wait",
      {
        description: "Waits until the test releases it",
        inputSchema: {},
        annotations: { readOnlyHint: true },
      },
      async () => {
        state.calls.push({ name: "wait", args: {} });
        state.waiting++;
        await new Promise<void>((resolve) => held.push(resolve));
        state.waiting--;
        return { content: [{ type: "text", text: "waited" }] };
      },
    );
    server.registerTool(
      "meet",
      {
        description: "Waits for n calls at once",
        inputSchema: { n: z.number(), who: z.string() },
        annotations: { readOnlyHint: true },
      },
      async ({ n, who }) => {
        state.calls.push({ name: "meet", args: { n, who } });
        if (!meeting) {
          let release!: () => void;
          const all = new Promise<void>((r) => {
            release = r;
          });
          meeting = { want: n, arrived: 0, release, all };
        }
        const m = meeting;
        m.arrived++;
        if (m.arrived >= m.want) {
          meeting = undefined;
          m.release();
        }
        await m.all;
        return { content: [{ type: "text", text: `${who} met ${n - 1} other(s)` }] };
      },
    );
    for (const t of extra) registerExtra(server, t.name, t.text);
    servers.push(server);
    return server;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers["mcp-session-id"];
    const known = typeof id === "string" ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res);
    if (req.method !== "POST") {
      res.writeHead(400).end();
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
    });
    await build().connect(transport);
    await transport.handleRequest(req, res);
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", () => resolve()));
  const address = http.address();
  state.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/mcp`;
  return state;
}

function registerExtra(server: McpServer, name: string, text: string): void {
  server.registerTool(
    name,
    { description: `Says ${text}`, inputSchema: {}, annotations: { readOnlyHint: true } },
    async () => ({ content: [{ type: "text", text }] }),
  );
}

/** The tool results a provider's request carries, as text, whichever provider's shape. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent
export function toolResultsIn(body: any): string[] {
  const out: string[] = [];
  for (const m of body?.messages ?? []) {
    if (m.role === "tool") out.push(String(m.content));
    if (Array.isArray(m.content))
      for (const b of m.content) if (b.type === "tool_result") out.push(String(b.content));
  }
  return out;
}

/** The tool names a request offered, whichever provider's shape. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent
export function toolsOffered(body: any): string[] {
  return (body?.tools ?? []).map((t: any) => t.function?.name ?? t.name);
}
