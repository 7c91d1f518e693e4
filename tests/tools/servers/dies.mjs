// A stdio MCP server (the official SDK's McpServer) whose `die` tool ends its own process mid-call,
// as a crashing server would; `ok` answers.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const server = new McpServer({ name: "dies", version: "1.0.0" });
server.registerTool(
  "die",
  { description: "Exits mid-call", inputSchema: {}, annotations: { readOnlyHint: true } },
  async () => {
    setTimeout(() => process.exit(3), 10);
    return new Promise(() => {});
  },
);
server.registerTool(
  "ok",
  { description: "Answers", inputSchema: {}, annotations: { readOnlyHint: true } },
  async () => ({
    content: [{ type: "text", text: "fine" }],
  }),
);
await server.connect(new StdioServerTransport());
