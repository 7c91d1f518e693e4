import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { McpServerConfig } from "../../src/config/index.js";
import { silentLogger } from "../../src/log.js";
import { ToolServers } from "../../src/tools/index.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";
import { type HttpMcp, startHttpMcp, toolsOffered } from "../helpers/mcp.js";

const broken: McpServerConfig = {
  name: "broken",
  kind: "stdio",
  command: process.execPath,
  args: ["-e", "console.error('MISSING_TOKEN is not set'); process.exit(1)"],
  env: {},
  everywhere: true,
};
const dies: McpServerConfig = {
  name: "dies",
  kind: "stdio",
  command: process.execPath,
  args: [fileURLToPath(new URL("./servers/dies.mjs", import.meta.url))],
  env: {},
  everywhere: true,
};
const options = { callTimeoutMs: 5_000, maxResultChars: 4_000, startTimeoutMs: 10_000, retryMs: 0 };

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("MCP servers", () => {
  let servers: ToolServers | undefined;
  let http: HttpMcp | undefined;
  let t: TestBot | undefined;
  afterEach(async () => {
    await servers?.close();
    await http?.close();
    await t?.close();
    servers = undefined;
    http = undefined;
    t = undefined;
  });

  it("a server that cannot start is failed, with what it said; the others work and the bot still answers", async () => {
    http = await startHttpMcp();
    t = await makeTestBot({ tools: { servers: [broken, http.config("notes")] } });
    const statuses = t.tools?.statuses();
    expect(statuses?.broken).toMatchObject({
      state: "failed",
      reason: expect.stringContaining("MISSING_TOKEN is not set"),
    });
    expect(statuses?.notes).toMatchObject({ state: "ready" });
    t.fake.enqueue({ text: "Still here." });
    let text = "";
    for await (const item of t.bot.reply({
      conversationId: "web:b",
      author: { id: "U", name: "U" },
      text: "hi",
    }))
      if (typeof item === "string") text += item;
    expect(text).toBe("Still here.");
    expect(toolsOffered(t.fake.lastBody)).toContain("lookup");
  });

  it("a server that was down at start is started again later, and its tools are offered then", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const config: McpServerConfig = {
      name: "late",
      kind: "http",
      url: `http://127.0.0.1:${port}/mcp`,
      headers: {},
      everywhere: true,
    };
    servers = new ToolServers([config], silentLogger(), { ...options, retryMs: 100 });
    await servers.start();
    expect(servers.statuses().late?.state).toBe("failed");
    expect(servers.tools(["late"])).toEqual([]);
    http = await startHttpMcp(port);
    await until(() => servers?.statuses().late?.state === "ready", "the server running again");
    expect(servers.tools(["late"]).map((t) => t.name)).toContain("lookup");
  });

  it("relists a server's tools when it says its list changed", async () => {
    http = await startHttpMcp();
    servers = new ToolServers([http.config("notes")], silentLogger(), options);
    await servers.start();
    expect(servers.tools(["notes"]).map((t) => t.name)).not.toContain("late");
    http.addTool("late", "I came late");
    await until(() => servers?.tools(["notes"]).some((t) => t.name === "late") === true, "the new tool");
    const late = servers.tools(["notes"]).find((t) => t.name === "late");
    expect(late?.needsApproval).toBe(false);
    const outcome = await servers.call(late!, {}, new AbortController().signal);
    expect(outcome).toMatchObject({ text: "I came late", isError: false, status: "done" });
  });

  it("a server that dies mid-call gives an error result; later calls say it is not running", async () => {
    servers = new ToolServers([dies], silentLogger(), options);
    await servers.start();
    const [die, ok] = ["die", "ok"].map((n) => servers!.tools(["dies"]).find((t) => t.name === n)!);
    const outcome = await servers.call(die!, {}, new AbortController().signal);
    expect(outcome.isError).toBe(true);
    expect(["unavailable", "error"]).toContain(outcome.status);
    await until(() => servers?.statuses().dies?.state === "failed", "the server marked failed");
    expect(await servers.call(ok!, {}, new AbortController().signal)).toMatchObject({
      isError: true,
      status: "unavailable",
      text: "The dies tool server is not running.",
    });
  });

  it("a server that died is started again: its tools answer once it runs", async () => {
    servers = new ToolServers([dies], silentLogger(), { ...options, retryMs: 100 });
    await servers.start();
    const die = servers.tools(["dies"]).find((t) => t.name === "die")!;
    expect((await servers.call(die, {}, new AbortController().signal)).isError).toBe(true);
    await until(() => servers?.statuses().dies?.state === "failed", "the server marked failed");
    await until(() => servers?.statuses().dies?.state === "ready", "the server started again");
    const ok = servers.tools(["dies"]).find((t) => t.name === "ok")!;
    expect(await servers.call(ok, {}, new AbortController().signal)).toMatchObject({
      text: "fine",
      isError: false,
    });
  });

  it("names a tool two servers share by its server, so the model can tell them apart", async () => {
    http = await startHttpMcp();
    servers = new ToolServers([http.config("a"), http.config("b")], silentLogger(), options);
    await servers.start();
    const names = servers.tools(["a", "b"]).map((t) => t.definition.name);
    expect(names).toContain("a__lookup");
    expect(names).toContain("b__lookup");
    expect(servers.tools(["a"]).map((t) => t.name)).toContain("lookup");
  });
});
