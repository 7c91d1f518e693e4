import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import type { McpServerConfig } from "../src/config/index.js";
import type { ChatModel } from "../src/llm/index.js";
import { Models } from "../src/llm/index.js";
import { OpenAIModel } from "../src/llm/openai.js";
import { silentLogger } from "../src/log.js";
import { createStore } from "../src/memory/store.js";
import { Approvals, ToolServers } from "../src/tools/index.js";
import { Bot } from "../src/turn/index.js";
import { FakeOpenAI } from "../tests/fakes/openai.js";

/**
 * What a round of tool calls adds to a turn, apart from the tool's own time:
 * Bot turns (SQLite memory) where the model asks for one call of
 * server-everything's `echo` over stdio and then answers. The round's added
 * latency is the time from the end of the model's first request (the tool
 * calls whole) to the start of its second (the results sent), less the
 * tool's own time (its MCP call, the stdio round trip included, measured
 * around it). Two models: one in-process (the loop's own cost: finding the
 * tool, statuses, the round's messages), and the real OpenAI SDK against the
 * fake server over HTTP (the end of the first answer and the arrival of the
 * second request as the server sees them: the SDK's parsing and the second
 * request's sending counted too). Whole turns with and without a tool round
 * are shown beside, for scale.
 */

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

function everything(): McpServerConfig {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@modelcontextprotocol/server-everything/package.json");
  return {
    name: "everything",
    kind: "stdio",
    command: process.execPath,
    args: [join(dirname(pkg), "dist", "index.js"), "stdio"],
    env: {},
    everywhere: true,
  };
}

/** When the first request of a tool turn ended, and the second began (performance.now()). */
const gap = { firstEnded: 0, secondStarted: 0 };

/** An in-process model: asks for `echo` when the question says "tool" and no result came yet, else answers. */
const inProcess: ChatModel = {
  provider: "openai",
  model: "bench",
  vision: true,
  async *stream(messages, options) {
    const last = messages.at(-1);
    if (last?.role === "tool") gap.secondStarted = performance.now();
    const wantsTool = last?.role === "user" && JSON.stringify(last.content).includes("tool");
    if (wantsTool && options?.tools?.length) {
      yield "Let me check. ";
      options.onToolCalls?.([
        { type: "tool_call", id: `call_${Math.random()}`, name: "echo", args: { message: "hi" } },
      ]);
      gap.firstEnded = performance.now();
      return;
    }
    yield "An answer ";
    yield "in three deltas.";
  },
};

interface Figures {
  plain: number[];
  tool: number[];
  own: number[];
  added: number[];
}

async function measure(
  model: ChatModel,
  servers: ToolServers,
  turns: number,
  fake?: FakeOpenAI,
): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "chatbot-bench-tools-"));
  const store = createStore(`sqlite://${join(dir, "t.sqlite")}`, {
    maxMessages: 100,
    ttlMs: 600_000,
    purgeIntervalMs: 0,
  });
  let own = 0;
  const call = servers.call.bind(servers);
  servers.call = async (...args) => {
    const started = performance.now();
    try {
      return await call(...args);
    } finally {
      own += performance.now() - started;
    }
  };
  const bot = new Bot({
    models: new Models([{ name: "bench", model, contextTokens: 8_000 }]),
    store,
    log: silentLogger(),
    systemPrompt: "Be brief.",
    tools: { servers, approvals: new Approvals(), maxRounds: 5, approvalTimeoutMs: 60_000 },
  });
  const turn = async (i: number, text: string) => {
    const started = performance.now();
    for await (const _ of bot.reply({ conversationId: `web:${i}`, author: { id: "U", name: "U" }, text }));
    return performance.now() - started;
  };
  const out: Figures = { plain: [], tool: [], own: [], added: [] };
  for (let i = -30; i < turns; i++) {
    own = 0;
    const plain = await turn(2 * (i + 30), "just answer");
    if (fake)
      fake.enqueue(
        { text: "Let me check. ", toolCalls: [{ name: "echo", args: { message: "hi" } }] },
        { text: "Done." },
      );
    const tool = await turn(2 * (i + 30) + 1, "use a tool");
    if (i < 0) continue; // warm-up: the SDK's connections, the store's first statements, the JIT
    out.plain.push(plain);
    out.tool.push(tool);
    out.own.push(own);
    out.added.push(tool - plain - own);
  }
  servers.call = call;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const ms = (xs: number[]) => `${pct(xs, 50).toFixed(2)} / ${pct(xs, 95).toFixed(2)}`;

export async function runToolsBench(turns = 300): Promise<void> {
  console.log(`\n### Tools: what a round of tool calls adds to a turn (${turns} turns each way)\n`);
  console.log(
    "| model | turn without tools p50 / p95 (ms) | turn with one tool round p50 / p95 (ms) | the tool's own time p50 / p95 (ms) | added by the round, without the tool's time, p50 / p95 (ms) |\n|---|---|---|---|---|",
  );
  const servers = new ToolServers([everything()], silentLogger(), {
    callTimeoutMs: 10_000,
    maxResultChars: 4_000,
  });
  await servers.start();
  const fake = await FakeOpenAI.start();
  // The fake answers by what the request holds; it notes when the tool turn's first answer
  // ended (its last delta written) and when the second request (with the results) arrived.
  fake.respond((body) => {
    const messages: Array<{ role: string; content: unknown }> = body?.messages ?? [];
    const last = messages.at(-1);
    if (last?.role === "tool") {
      gap.secondStarted = performance.now();
      return { text: "Done." };
    }
    if (JSON.stringify(last?.content).includes("tool"))
      return {
        chunks: ["Let me check. "],
        toolCalls: [{ name: "echo", args: { message: "hi" } }],
        onDelta: (_i, atMs) => {
          gap.firstEnded = atMs;
        },
      };
    return { text: "An answer in three deltas." };
  });
  const sdk = new OpenAIModel({
    model: "bench",
    apiKey: "sk-bench",
    baseUrl: fake.baseUrl,
    maxOutputTokens: 256,
    idleTimeoutMs: 10_000,
    maxRetries: 0,
  });
  for (const [name, model, f] of [
    ["in-process", inProcess, undefined],
    ["OpenAI SDK over HTTP (fake server)", sdk, fake],
  ] as const) {
    const r = await measure(model, servers, turns, f);
    console.log(`| ${name} | ${ms(r.plain)} | ${ms(r.tool)} | ${ms(r.own)} | ${ms(r.added)} |`);
  }
  await fake.close();
  await servers.close();
  console.log(
    "\n\"Added by the round\": from the end of the model's first request (its tool calls whole) to the start of the second (the results sent), less the tool's own time (its MCP call over stdio, measured around it). With the SDK, as the fake server sees them: the SDK's parsing of the first answer's end and the second request's sending are counted too.",
  );
}
