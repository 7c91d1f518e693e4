import { Client, Events, GatewayIntentBits, type Message, Partials } from "discord.js";
import OpenAI from "openai";
import type { Ready } from "./remote.js";

const CURSOR = "▌";
const EDIT_EVERY_MS = 1_000;

/**
 * The comparison: what a small bot usually does (llmcord's loop) over the
 * same SDKs. discord.js and the OpenAI SDK, no store, no budget: post at the
 * first token, then edit with what arrived at most once a second (one edit in
 * flight), and a final edit at the end; discord.js waits out a 429 itself.
 * Questions in one channel are answered one after the other.
 */
export async function startNaiveBot(fakes: Ready, model: string): Promise<{ stop(): Promise<void> }> {
  const openai = new OpenAI({ apiKey: "sk-bench-not-real", baseURL: fakes.openaiUrl, maxRetries: 0 });
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.DirectMessages,
      GatewayIntentBits.MessageContent,
    ],
    partials: [Partials.Channel],
    rest: { api: fakes.apiUrl },
  });
  const lines = new Map<string, Promise<void>>();
  client.on("messageCreate", (message) => {
    if (message.author.bot) return;
    const previous = lines.get(message.channelId) ?? Promise.resolve();
    const next = previous.then(() => answer(openai, model, message)).catch(() => {});
    lines.set(message.channelId, next);
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fakes.token);
  await ready;
  return {
    stop: async () => {
      await Promise.all(lines.values());
      await client.destroy();
    },
  };
}

async function answer(openai: OpenAI, model: string, message: Message): Promise<void> {
  const stream = await openai.chat.completions.create({
    model,
    stream: true,
    messages: [{ role: "user", content: message.content }],
  });
  let text = "";
  let reply: Message | undefined;
  let lastEditAt = 0;
  let inFlight: Promise<unknown> | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    if (text.length === 0) continue;
    if (!reply) {
      reply = await message.reply({ content: text + CURSOR, allowedMentions: { parse: [] } });
      lastEditAt = Date.now();
    } else if (!inFlight && Date.now() - lastEditAt >= EDIT_EVERY_MS) {
      lastEditAt = Date.now();
      inFlight = reply.edit(text + CURSOR).finally(() => {
        inFlight = undefined;
      });
    }
  }
  await inFlight;
  if (reply) await reply.edit(text);
}
