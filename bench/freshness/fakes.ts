import { performance } from "node:perf_hooks";
import { FakeDiscord } from "../../tests/fakes/discord.js";
import { FakeOpenAI } from "../../tests/fakes/openai.js";
import type { FromFakes, ToFakes } from "./protocol.js";
import { answerTokens, keyOf } from "./tokens.js";

/**
 * The fakes of the freshness benchmark, in a process of their own so that
 * the bot's process CPU is the bot's alone: a fake Discord (sliding 5
 * requests per 5 s per channel, 429 beyond, 80-100 ms per request, applied
 * half-way) and a fake OpenAI that streams each question's answer on a fixed
 * schedule. Driven over IPC (protocol.ts) by bench/freshness/index.ts.
 */
const CHANNELS = 10;

const discord = await FakeDiscord.start({
  messageLimit: { requests: 5, perMs: 5_000 },
  latency: { minMs: 80, maxMs: 100 },
});
const generals = Array.from({ length: CHANNELS }, (_, i) => discord.world.addGuild(`server ${i}`).general);
const openai = await FakeOpenAI.start();
let pace = { tokens: 400, tokensPerS: 40, ttftMs: 300 };
/** Per question key: when each token was written (ms since the epoch, fractional). */
let produced: Record<string, number[]> = {};
let callsFrom = 0;

openai.respond((body) => {
  const text = JSON.stringify(body?.messages?.at(-1)?.content ?? "");
  const key = keyOf(text) ?? "unknown";
  const times: number[] = [];
  produced[key] = times;
  return {
    chunks: answerTokens(key, pace.tokens),
    chunkDelayMs: 1000 / pace.tokensPerS,
    firstDelayMs: pace.ttftMs,
    onDelta: (_i, at) => times.push(performance.timeOrigin + at),
  };
});

const send = (message: FromFakes) => process.send?.(message);

process.on("message", async (message: ToFakes) => {
  switch (message.type) {
    case "pace":
      pace = message.pace;
      produced = {};
      callsFrom = discord.calls.length;
      send({ type: "ok" });
      return;
    case "say": {
      const channel = [...discord.world.channels.values()].find((c) => c.id === message.channelId);
      if (!channel) throw new Error(`no channel ${message.channelId}`);
      const id = discord.say({ channel, content: message.content });
      send({ type: "said", id });
      return;
    }
    case "trace": {
      const calls = discord.calls
        .slice(callsFrom)
        .filter((c) => /^\/channels\/\d+\/messages(\/\d+)?$/.test(c.path) && c.method !== "GET")
        .map((c) => ({
          method: c.method,
          path: c.path,
          status: c.status,
          appliedAt: c.appliedAt,
          content: typeof c.body?.content === "string" ? c.body.content : undefined,
          replyTo: c.body?.message_reference?.message_id,
          id: (c.answer as { id?: string } | undefined)?.id,
        }));
      send({ type: "trace", produced, calls });
      return;
    }
    case "await": {
      // Polled here, not by the bench: the bot's process does nothing but the bot meanwhile.
      const deadline = Date.now() + message.timeoutMs;
      const questions = new Set(message.questions);
      for (;;) {
        const answers = new Map<string, string>();
        for (const c of discord.calls.slice(callsFrom)) {
          if (c.status !== 200 || c.appliedAt === 0) continue;
          const replyTo = c.body?.message_reference?.message_id;
          const id = (c.answer as { id?: string } | undefined)?.id;
          if (c.method === "POST" && replyTo && questions.has(replyTo) && id) answers.set(id, c.body.content);
          const edited = c.method === "PATCH" ? c.path.split("/").at(-1) : undefined;
          if (edited && answers.has(edited) && typeof c.body?.content === "string")
            answers.set(edited, c.body.content);
        }
        const done = [...answers.values()].filter((t) => !t.includes(message.cursor)).length;
        if (done >= questions.size || Date.now() > deadline) {
          send({ type: "finished", all: done >= questions.size });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    case "close":
      await discord.close();
      await openai.close();
      process.exit(0);
  }
});

send({
  type: "ready",
  apiUrl: discord.apiUrl,
  token: discord.token,
  openaiUrl: openai.baseUrl,
  botId: discord.world.botUser.id,
  channels: generals.map((c) => c.id),
  thread: discord.world.thread.id,
});
