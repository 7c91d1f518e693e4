import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, secretsOf } from "../src/config/index.js";
import { configFiles, problems } from "./helpers/config.js";

const { dir, file } = configFiles("chatbot-config-mcp-");
const key = { OPENAI_API_KEY: "sk-x-123456" };

describe("MCP servers in the configuration", () => {
  it("reads mcpServers: from CONFIG_FILE, stdio and Streamable HTTP, with enabled_everywhere", () => {
    const path = file(
      "tools.yaml",
      `mcpServers:
  everything:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-everything"]
    env: { GITHUB_TOKEN: ghp_secret_value }
    enabled_everywhere: true
  issues:
    url: https://mcp.example.com/mcp
    headers: { Authorization: "Bearer abc-123-secret" }
`,
    );
    const config = loadConfig({
      env: { ...key, CONFIG_FILE: path, TOOL_TIMEOUT_MS: "2000", TOOL_APPROVAL_TIMEOUT_MS: "500" },
    });
    expect(config.tools.servers).toEqual([
      {
        name: "everything",
        kind: "stdio",
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-everything"],
        env: { GITHUB_TOKEN: "ghp_secret_value" },
        everywhere: true,
      },
      {
        name: "issues",
        kind: "http",
        url: "https://mcp.example.com/mcp",
        headers: { Authorization: "Bearer abc-123-secret" },
        everywhere: false,
      },
    ]);
    expect(config.tools).toMatchObject({
      callTimeoutMs: 2000,
      approvalTimeoutMs: 500,
      maxRounds: 5,
      maxResultChars: 4000,
    });
    // Tokens in headers and secret-named env are scrubbed from the logs.
    expect(secretsOf(config)).toEqual(expect.arrayContaining(["ghp_secret_value", "Bearer abc-123-secret"]));
  });

  it("reads MCP_CONFIG: a Claude Desktop file as it is (other keys ignored)", () => {
    const path = file(
      "claude_desktop_config.json",
      JSON.stringify({
        globalShortcut: "Ctrl+Space",
        mcpServers: {
          fs: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] },
        },
      }),
    );
    const config = loadConfig({ env: { ...key, MCP_CONFIG: path } });
    expect(config.tools.servers).toEqual([
      {
        name: "fs",
        kind: "stdio",
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
        env: {},
        everywhere: false,
      },
    ]);
  });

  it("a bad entry stops start-up with its path in the file", () => {
    const bad = file(
      "bad.yaml",
      `mcpServers:
  a: { command: node, url: "http://x" }
  b: { args: [x] }
  c: { url: "ftp://x" }
  "bad name": { command: node }
  d: { command: node, enabled_everywhere: yes please, colour: blue }
`,
    );
    expect(problems({ ...key, CONFIG_FILE: bad }).sort()).toEqual(
      [
        `${bad}: mcpServers.a: has both command and url: give one`,
        `${bad}: mcpServers.b: needs command (a stdio server) or url (Streamable HTTP)`,
        `${bad}: mcpServers.c.url: accepts an http:// or https:// URL`,
        `${bad}: mcpServers.d: unknown key colour`,
        `${bad}: mcpServers.d.enabled_everywhere: accepts true or false`,
        `${bad}: mcpServers.bad name: a server's name accepts letters, digits, '_' and '-' (at most 32)`,
      ].sort(),
    );
    const missing = join(dir, "nope.json");
    expect(problems({ ...key, MCP_CONFIG: missing })).toEqual([
      `MCP_CONFIG=${missing}: cannot read it: no such file`,
    ]);
    const notJson = file("not.json", "{ mcpServers: ");
    expect(problems({ ...key, MCP_CONFIG: notJson })[0]).toMatch(
      /^MCP_CONFIG=.*not\.json: cannot read it: not valid JSON/,
    );
    const twice = file("twice.json", JSON.stringify({ mcpServers: { a: { command: "node" } } }));
    const yaml = file("twice.yaml", "mcpServers:\n  a: { command: node }\n");
    expect(problems({ ...key, MCP_CONFIG: twice, CONFIG_FILE: yaml })).toEqual([
      `MCP_CONFIG=${twice}: mcpServers.a: is also in CONFIG_FILE's mcpServers`,
    ]);
  });

  it("config.example.yaml documents every key of a server entry", () => {
    const text = readFileSync(new URL("../config.example.yaml", import.meta.url), "utf8");
    const source = readFileSync(new URL("../src/config/mcp.ts", import.meta.url), "utf8");
    const keys = [...source.matchAll(/^\s{4}([a-z_]+): z\./gm)].map((m) => m[1]!);
    expect(keys).toEqual(["type", "command", "args", "env", "cwd", "url", "headers", "enabled_everywhere"]);
    for (const k of keys)
      expect(text, `config.example.yaml documents ${k}`).toMatch(new RegExp(`\\b${k}\\b`));
  });
});
