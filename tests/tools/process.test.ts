import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOpenAI } from "../fakes/openai.js";
import { toolResultsIn } from "../helpers/mcp.js";
import { killStartedBots, type Running, startBot } from "../helpers/process.js";

const require = createRequire(import.meta.url);
const everything = join(
  dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist",
  "index.js",
);

// A real bot process: on a busy machine one start alone can take 20 s.
describe("the bot process with MCP_CONFIG", { timeout: 120_000 }, () => {
  let fake: FakeOpenAI | undefined;
  let bot: Running | undefined;
  afterEach(async () => {
    if (bot && bot.child.exitCode === null) bot.child.kill("SIGKILL");
    killStartedBots();
    await fake?.close();
  });

  it("starts the servers of a Claude Desktop file; one that cannot start is logged and in /ready, the rest answer", async () => {
    fake = await FakeOpenAI.start();
    const dir = mkdtempSync(join(tmpdir(), "chatbot-mcp-"));
    const file = join(dir, "claude_desktop_config.json");
    writeFileSync(
      file,
      JSON.stringify({
        globalShortcut: "Ctrl+Space",
        mcpServers: {
          everything: { command: "node", args: [everything, "stdio"], enabled_everywhere: true },
          broken: { command: "node", args: ["-e", "process.exit(2)"], enabled_everywhere: true },
        },
      }),
    );
    bot = await startBot({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: "sk-test-0123456789",
      LLM_MODEL: "m",
      MCP_CONFIG: file,
      METRICS_ENABLED: "true",
    });
    expect(bot.output(), "the bot's output").toMatch(/MCP server broken: /);
    expect(bot.output(), "the bot's output").toMatch(/Tools: everything ready, \d+ tools/);
    const ready = await fetch(`${bot.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { tools: Record<string, string> };
    expect(body.tools.everything).toMatch(/^ready \(\d+ tools\)$/);
    expect(body.tools.broken).toMatch(/^failed: /);

    fake.enqueue({ toolCalls: [{ name: "get-sum", args: { a: 20, b: 22 } }] }, { text: "42." });
    const res = await fetch(`${bot.baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "20+22?" }),
    });
    expect(((await res.json()) as { response: string }).response).toBe("42.");
    expect(toolResultsIn(fake.lastBody)).toEqual(["The sum of 20 and 22 is 42."]);
    // Counted: in the turn's own log line and in the metrics.
    expect(bot.output(), "the bot's output").toMatch(
      /"toolCalls":\[\{"server":"everything","name":"get-sum","status":"done","durationMs":\d+\}\]/,
    );
    const metrics = await (await fetch(`${bot.baseUrl}/metrics`)).text();
    expect(metrics).toContain(
      'chatbot_tool_calls_total{platform="web",server="everything",tool="get-sum",status="done"} 1',
    );
    // Attributable: who asked, where, and how it ended.
    expect(bot.output(), "the bot's output").toMatch(
      /"tool":\{"server":"everything","name":"get-sum","status":"done"/,
    );
    expect(bot.output(), "the bot's output").toMatch(
      /"askedBy":\{"id":"[^"]+","name":"[^"]+"\},"conversationId":"web:[^"]+","platform":"web"/,
    );
  });
});
