import { readFileSync } from "node:fs";
import { z } from "zod";
import type { McpServerConfig } from "./types.js";

/**
 * MCP servers, in the shape Claude Desktop's `claude_desktop_config.json`
 * has (`mcpServers: { name: { command, args, env } }`), plus `url` (+
 * `headers`) for a Streamable HTTP server and `enabled_everywhere`. Read from
 * CONFIG_FILE's `mcpServers:` and from the JSON file MCP_CONFIG names; a bad
 * entry stops start-up with its path (`mcpServers.issues.url: ...`).
 */

const serverName = /^[A-Za-z0-9_-]{1,32}$/;

export const mcpServerEntry = z
  .strictObject({
    // Claude Code's .mcp.json writes the transport; Claude Desktop's leaves it out.
    type: z.enum(["stdio", "http", "streamable-http"], { error: "accepts stdio or http" }).optional(),
    command: z.string().trim().min(1, "accepts the program to start").optional(),
    args: z.array(z.string(), { error: "accepts a list of strings" }).default([]),
    env: z.record(z.string(), z.string(), { error: "accepts names and string values" }).default({}),
    cwd: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/, error: "accepts an http:// or https:// URL" }).optional(),
    headers: z.record(z.string(), z.string(), { error: "accepts names and string values" }).default({}),
    enabled_everywhere: z.boolean({ error: "accepts true or false" }).default(false),
  })
  .superRefine((entry, ctx) => {
    if (entry.command === undefined && entry.url === undefined)
      ctx.addIssue({ code: "custom", message: "needs command (a stdio server) or url (Streamable HTTP)" });
    if (entry.command !== undefined && entry.url !== undefined)
      ctx.addIssue({ code: "custom", message: "has both command and url: give one" });
  });

// `mcpServers:` with every entry commented out reads as null: no servers.
export const mcpServers = z.preprocess(
  (v) => v ?? {},
  z.record(
    z.string().regex(serverName, "a server's name accepts letters, digits, '_' and '-' (at most 32)"),
    mcpServerEntry,
  ),
);

type Entries = z.infer<typeof mcpServers>;

/** Claude Desktop's file has other keys beside mcpServers (preferences, shortcuts): only mcpServers is read. */
const desktopFile = z.looseObject({ mcpServers });

/** The servers of the JSON file MCP_CONFIG names; problems name the file and the entry. */
export function readMcpConfig(path: string): { servers: Entries; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === "ENOENT" ? "no such file" : `not valid JSON (${e.message.split("\n")[0]})`;
    return { servers: {}, problems: [`MCP_CONFIG=${path}: cannot read it: ${reason}`] };
  }
  const result = desktopFile.safeParse(raw ?? {});
  if (!result.success) return { servers: {}, problems: issuesOf(path, result.error.issues) };
  return { servers: result.data.mcpServers, problems: [] };
}

/** The servers of both places as the bot uses them; a name in both is a problem. */
export function mcpServersOf(
  fromFile: Entries,
  fromMcpConfig: Entries,
  mcpConfigPath: string | undefined,
  problems: string[],
): McpServerConfig[] {
  for (const name of Object.keys(fromMcpConfig)) {
    if (name in fromFile)
      problems.push(`MCP_CONFIG=${mcpConfigPath}: mcpServers.${name}: is also in CONFIG_FILE's mcpServers`);
  }
  return Object.entries({ ...fromFile, ...fromMcpConfig }).map(([name, e]) => {
    const everywhere = e.enabled_everywhere;
    if (e.url !== undefined) return { name, kind: "http", url: e.url, headers: e.headers, everywhere };
    return {
      name,
      kind: "stdio",
      command: e.command ?? "",
      args: e.args,
      env: e.env,
      ...(e.cwd ? { cwd: e.cwd } : {}),
      everywhere,
    };
  });
}

/** A zod issue as it reads in the file: `mcpServers.issues.url: accepts ...`. */
export function issuesOf(file: string, issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const where = i.path
      .map((p, n) => (typeof p === "number" ? `[${p}]` : `${n === 0 ? "" : "."}${String(p)}`))
      .join("");
    const message =
      i.code === "unrecognized_keys"
        ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}`
        : i.code === "invalid_key"
          ? (i.issues[0]?.message ?? i.message)
          : i.message;
    return `${file}: ${where ? `${where}: ` : ""}${message}`;
  });
}
