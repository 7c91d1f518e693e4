import { performance } from "node:perf_hooks";
import { type Harness, startHarness } from "../tests/discord/harness.js";
import type { FakeChannel, FakeMessage, RestCall } from "../tests/fakes/discord.js";

/**
 * The Discord adapter end to end: real discord.js against the fake Discord
 * (which enforces Discord's 5 message creates and edits per 5 s per channel
 * with 429s) and the real OpenAI SDK against a fake model (120 tokens at 50
 * tokens/s, first token after 500 ms), Stop and Regenerate buttons on.
 *
 * - Busy channels: people mention the bot at once in plain channels; each
 *   mention is a conversation of its own, so their answers stream at the
 *   same time on the channel's shared budget. Time to the first word and to
 *   the finished answer, the busiest 5 s of a channel, 429s, and whether
 *   every answer showed Stop while written and ended with Regenerate.
 * - Stop: a press on Stop until the model's connection closes, and until the
 *   message shows "Stopped by …".
 */

const TOKENS = 120;
const TOKEN_MS = 20;
const TTFT_MS = 500;
const LIMIT = { requests: 5, perMs: 5_000 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface BusyRow {
  channels: number;
  questions: number;
  firstWordP50: number;
  firstWordMax: number;
  doneP50: number;
  doneMax: number;
  busiest: number;
  rateLimited: number;
  buttonsRight: number;
}

/** The most message creates and edits that reached one channel within any 5 s. */
function busiestWindow(calls: RestCall[], channelId: string): number {
  const at = calls
    .filter((c) => c.method !== "GET" && c.path.startsWith(`/channels/${channelId}/messages`))
    .map((c) => c.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= LIMIT.perMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Stop on every state but the last (which has Regenerate), on each message of the answer. */
function buttonsRight(messages: FakeMessage[]): boolean {
  const last = messages.at(-1);
  return (
    last?.states.at(-1)?.buttons.join() === "Regenerate" &&
    messages.every((m) =>
      m.states
        .slice(0, -1)
        .every((s) => s.buttons.join() === "Stop" || (m !== last && s.buttons.length === 0)),
    )
  );
}

async function busy(channelCount: number, perChannel: number): Promise<BusyRow> {
  const channels: FakeChannel[] = [];
  const h = await startHarness({
    discord: { messageLimit: LIMIT },
    config: { editsPer5s: LIMIT.requests },
    setup: (discord) => {
      for (let i = 0; i < channelCount; i++) channels.push(discord.world.addGuild(`server ${i}`).general);
    },
  });
  try {
    const chunks = Array.from({ length: TOKENS }, (_, i) => `tok${i} `);
    h.fake.respond(() => ({ chunks, chunkDelayMs: TOKEN_MS, firstDelayMs: TTFT_MS }));
    const { world } = h.discord;
    const asked: Array<{ id: string; channel: FakeChannel; at: number }> = [];
    for (const channel of channels) {
      for (let i = 0; i < perChannel; i++) {
        const author = i % 2 ? world.bob : world.alice;
        const id = h.discord.say({ channel, author, content: `<@${world.botUser.id}> question ${i}` });
        asked.push({ id, channel, at: Date.now() });
      }
    }
    const answers = await h.discord.waitFor(
      () => {
        const found = asked.map((q) => [...h.discord.messages.values()].find((m) => m.replyTo === q.id));
        return found.every((m) => m?.states.at(-1)?.buttons.join() === "Regenerate") ? found : undefined;
      },
      "every answer",
      600_000,
    );
    const firstWord: number[] = [];
    const done: number[] = [];
    for (const [i, q] of asked.entries()) {
      const answer = answers[i]!;
      const calls = h.discord.calls.filter((c) => c.path.endsWith(`/messages/${answer.id}`));
      const post = h.discord.calls.find(
        (c) => c.method === "POST" && c.body?.message_reference?.message_id === q.id && c.status === 200,
      );
      const final = [post, ...calls].filter((c) => c && c.status === 200 && hasRegenerate(c)).at(-1);
      firstWord.push((post?.at ?? 0) - q.at);
      done.push((final?.at ?? 0) - q.at);
    }
    return {
      channels: channelCount,
      questions: asked.length,
      firstWordP50: pct(firstWord, 50),
      firstWordMax: Math.max(...firstWord),
      doneP50: pct(done, 50),
      doneMax: Math.max(...done),
      busiest: Math.max(...channels.map((c) => busiestWindow(h.discord.calls, c.id))),
      rateLimited: h.discord.calls.filter((c) => c.status === 429).length,
      buttonsRight: answers.filter((a) => buttonsRight([a!])).length,
    };
  } finally {
    await h.close();
  }
}

function hasRegenerate(call: RestCall): boolean {
  return JSON.stringify(call.body?.components ?? []).includes('"Regenerate"');
}

async function stops(presses: number): Promise<{ closed: number[]; shown: number[] }> {
  const h: Harness = await startHarness();
  const closed: number[] = [];
  const shown: number[] = [];
  try {
    const chunks = Array.from({ length: 2_000 }, (_, i) => `tok${i} `);
    h.fake.respond(() => ({ chunks, chunkDelayMs: TOKEN_MS }));
    const dm = h.discord.world.aliceDm;
    for (let i = 0; i < presses; i++) {
      const before = h.discord.botMessages(dm.id).length;
      h.discord.say({ channel: dm, content: `talk ${i}` });
      const message = await h.discord.waitFor(
        () =>
          h.discord
            .botMessages(dm.id)
            .slice(before)
            .find((m) => m.states.at(-1)?.buttons.join() === "Stop"),
        "Stop",
      );
      const request = h.fake.requests.at(-1)!;
      const pressedAt = Date.now();
      h.discord.click({ messageId: message.id, label: "Stop" });
      await h.discord.waitFor(() => message.content.endsWith("_Stopped by Alice._"), "the stopped answer");
      const final = h.discord.calls.filter((c) => c.path.endsWith(`/messages/${message.id}`)).at(-1)!;
      await h.discord.waitFor(() => request.closedAt !== undefined, "the closed request");
      closed.push(request.closedAt! - pressedAt);
      shown.push(final.at - pressedAt);
    }
  } finally {
    await h.close();
  }
  return { closed, shown };
}

/** `npm run bench -- discord`: prints two Markdown tables. */
export async function runDiscordBench(): Promise<void> {
  const started = performance.now();
  const rows = [await busy(1, 10), await busy(5, 10)];
  console.log(
    `\n### Discord end to end: ${TOKENS} tokens per answer at ${1000 / TOKEN_MS} tokens/s, first token after ${TTFT_MS} ms; the fake Discord answers 429 beyond ${LIMIT.requests} message creates and edits per ${LIMIT.perMs} ms per channel; Stop and Regenerate buttons on\n`,
  );
  console.log(
    "| channels | questions at once | 1st word p50 / max (s) | answered p50 / max (s) | busiest 5 s of a channel (requests) | 429s | Stop while written, Regenerate at the end |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.channels} | ${r.questions} | ${seconds(r.firstWordP50)} / ${seconds(r.firstWordMax)} | ${seconds(r.doneP50)} / ${seconds(r.doneMax)} | ${r.busiest} | ${r.rateLimited} | ${r.buttonsRight} of ${r.questions} |`,
    );
  }
  const s = await stops(20);
  console.log(
    "\n| Stop presses | press → model connection closed p50 / p99 (ms) | press → message final p50 / p99 (ms) |",
  );
  console.log("|---|---|---|");
  console.log(
    `| ${s.closed.length} | ${pct(s.closed, 50)} / ${pct(s.closed, 99)} | ${pct(s.shown, 50)} / ${pct(s.shown, 99)} |`,
  );
  console.log(`\n(${seconds(performance.now() - started)} s)`);
}
