import { afterEach, describe, expect, it } from "vitest";
import { startDiscord } from "../../adapters/discord/index.js";
import { StartError } from "../../src/errors.js";
import { FakeDiscord, MESSAGE_CONTENT_INTENT } from "../fakes/discord.js";
import { makeTestBot } from "../helpers/bot.js";
import {
  CURSOR,
  collectingLogger,
  discordConfig,
  type Harness,
  type LogLine,
  startHarness,
} from "./harness.js";

/** A paragraph-rich answer of about `chars` characters. */
function longAnswer(chars: number): string {
  const sentence = "This sentence is part of a long answer that Discord cannot hold in one message. ";
  const paragraphs: string[] = [];
  let total = 0;
  while (total < chars) {
    const p = sentence.repeat(4).trim();
    paragraphs.push(p);
    total += p.length + 2;
  }
  return paragraphs.join("\n\n").slice(0, chars).trimEnd();
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

describe("Discord robustness", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("continues a 5,000-character answer in three messages", async () => {
    h = await startHarness();
    const answer = longAnswer(5_000);
    expect(answer.length).toBeGreaterThan(4_900);
    h.fake.respond(() => ({ chunks: answer.match(/[\s\S]{1,250}/g)!, chunkDelayMs: 15 }));
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "write a lot" });

    const messages = await h.discord.waitFor(() => {
      const mine = h!.discord.botMessages(dm.id);
      const joined = squash(mine.map((m) => m.content).join(" "));
      return joined === squash(answer) && mine.every((m) => !m.content.includes(CURSOR)) ? mine : undefined;
    }, "the whole answer");
    expect(messages).toHaveLength(3);
    for (const m of messages) expect(m.content.length).toBeLessThanOrEqual(2_000);
  });

  it("loses nothing when an edit is answered 429 with retry_after", async () => {
    h = await startHarness();
    const answer = "One, two, three, four, five, six, seven, eight, nine, ten: counting slowly for the test.";
    h.fake.respond(() => ({ text: answer, chunkDelayMs: 30 }));
    h.discord.rateLimitNext("PATCH", /^\/channels\/\d+\/messages\/\d+$/, 1);
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "count" });

    const [message] = await h.discord.waitForBotText(dm.id, answer);
    expect(h.discord.botMessages(dm.id)).toHaveLength(1);
    const edits = h.discord.callsTo("PATCH", /\/messages\/\d+$/);
    const limited = edits.findIndex((c) => c.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(edits.slice(limited + 1).some((c) => c.status === 200)).toBe(true);
    expect(message!.content).toBe(answer);
    // The 429 reached the renderer (so the channel's shared budget paused), not only discord.js's queue.
    for (let i = 0; i < 100 && !h.logs.some((l) => l.msg === "reply rendered"); i++)
      await new Promise((r) => setTimeout(r, 50));
    const rendered = h.logs.find((l) => l.msg === "reply rendered") as { rateLimited?: number } | undefined;
    expect(rendered?.rateLimited).toBe(1);
  });

  it("ignores bots, itself, system messages and edits", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const me = `<@${world.botUser.id}>`;
    h.discord.say({ channel: world.general, author: world.otherBot, content: `${me} hello from a bot` });
    h.discord.say({ channel: world.general, content: "", type: 7 }); // "Alice joined the server"
    const early = h.discord.say({ channel: world.general, content: "no mention yet" });
    h.discord.editByUser(early, `${me} edited to mention`);
    h.discord.say({ channel: world.general, content: `${me} a real question` });
    await h.discord.waitForBotText(world.general.id, "You said: a real question");

    // The bot's own answer came back over the gateway too, and was not answered.
    h.discord.say({ channel: world.aliceDm, content: "and a DM" });
    await h.discord.waitForBotText(world.aliceDm.id, "You said: and a DM");
    expect(h.fake.requests).toHaveLength(2);
    expect(h.discord.botMessages(world.general.id)).toHaveLength(1);
  });

  it("answers a bare mention with a hint instead of asking the model", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const asked = h.discord.say({ channel: world.general, content: `<@${world.botUser.id}>` });
    const [hint] = await h.discord.waitFor(() => {
      const mine = h!.discord.botMessages(world.general.id);
      return mine.length > 0 ? mine : undefined;
    });
    expect(hint!.replyTo).toBe(asked);
    expect(hint!.content).toMatch(/reset/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it("reads text attachments into the message, names the others, and says when an image is not one", async () => {
    // The answer echoes 32 KB: many messages, so a roomy edit budget keeps the test short.
    h = await startHarness({ bot: { contextTokens: 100_000 }, config: { editsPer5s: 100 } });
    const { world } = h.discord;
    const code = "export const answer = 42;\n// with ``` inside\n";
    const notes = Array.from({ length: 2_000 }, (_, i) => `note number ${i} says hello`).join("\n");
    const files = [
      h.discord.attachment("answer.ts", code, "video/mp2t"),
      h.discord.attachment("notes.txt", notes, "text/plain; charset=utf-8"),
      h.discord.attachment("cat.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), "image/png"),
      h.discord.attachment("archive.zip", Buffer.from("PK\x03\x04 not really"), "application/zip"),
    ];
    h.discord.say({ channel: world.aliceDm, content: "look at these", attachments: files });
    await h.discord.waitFor(() => h!.fake.requests.length === 1);
    const text: string = h.fake.lastBody.messages.at(-1).content;
    expect(text.startsWith("look at these\n\n")).toBe(true);
    expect(text).toContain(`Attached file answer.ts:\n\`\`\`\`\n${code}\n\`\`\`\``);
    expect(text).toContain("Attached file notes.txt (the first 32000 bytes of");
    expect(text).toContain(notes.slice(0, 32_000));
    expect(text).not.toContain(notes.slice(0, 32_001));
    expect(text).toContain("[Attached file cat.png; not read: it is not an image]");
    expect(text).toMatch(
      /\[Attached file archive\.zip \(application\/zip, 1\d B\); its content is not included\]/,
    );
    // The person reads why the "image" was not looked at, under the answer (its last message).
    const note = "\n\n_cat.png is not an image I can read._";
    const answer = await h.discord.waitFor(() => {
      const last = h!.discord.botMessages(world.aliceDm.id).at(-1);
      return last?.content.endsWith(note) ? last : undefined;
    }, "the note under the answer");
    expect(answer.content).not.toContain("▌");
  });

  it("logs a missing permission with the channel and keeps working elsewhere", async () => {
    h = await startHarness();
    const { world } = h.discord;
    h.discord.denySendIn(world.general.id);
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> can you hear me?` });
    const warning = await h.discord.waitFor(() =>
      h!.logs.find((l) => l.channelId === world.general.id && /missing permission/.test(l.msg)),
    );
    expect(warning.guildId).toBe(world.guildId);
    h.discord.say({ channel: world.aliceDm, content: "still alive?" });
    await h.discord.waitForBotText(world.aliceDm.id, "You said: still alive?");
  });

  it("finishes an answer with its final edit when the gateway drops mid-way, then resumes", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const answer = "This answer is streamed while the gateway connection drops and comes back.";
    h.fake.respond(() => ({ text: answer, chunkDelayMs: 60 }));
    h.discord.say({ channel: world.aliceDm, content: "go" });
    await h.discord.waitFor(
      () => h!.discord.botMessages(world.aliceDm.id).length === 1,
      "the answer to start",
    );
    h.discord.gateway.drop(4000);
    expect(h.discord.gateway.connected).toBe(false);

    await h.discord.waitForBotText(world.aliceDm.id, answer);
    await h.discord.waitFor(
      () => h!.discord.gateway.resumes.length > 0 && h!.discord.gateway.connected,
      "a resume",
    );
    h.fake.respond((body) => ({ text: `You said: ${body.messages.at(-1).content}` }));
    h.discord.say({ channel: world.aliceDm, content: "after the resume" });
    await h.discord.waitForBotText(world.aliceDm.id, "You said: after the resume");
  });

  it("on stop, ends an answer being written with a final edit instead of leaving the cursor", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    h.fake.respond(() => ({
      text: "a slow answer that is still being written at shutdown",
      chunkDelayMs: 300,
    }));
    h.discord.say({ channel: dm, content: "take your time" });
    await h.discord.waitFor(() => h!.discord.botMessages(dm.id).length === 1, "the answer to start");
    await h.adapter.stop(0);

    const [message] = h.discord.botMessages(dm.id);
    expect(message!.content).not.toContain(CURSOR);
    expect(message!.content).toMatch(
      /_The bot restarted before finishing this answer\. Please ask again\._$/,
    );
    expect(await h.adapter.ready()).toBe(false);
  });

  it("prints an invite URL with the client id, exactly the needed permissions and both scopes", async () => {
    h = await startHarness();
    const url = new URL(h.adapter.inviteUrl);
    expect(url.origin + url.pathname).toBe("https://discord.com/oauth2/authorize");
    expect(url.searchParams.get("client_id")).toBe(h.discord.world.applicationId);
    // View Channel, Send Messages, Read Message History, Send Messages in Threads.
    expect(BigInt(url.searchParams.get("permissions")!)).toBe(
      (1n << 10n) | (1n << 11n) | (1n << 16n) | (1n << 38n),
    );
    expect(url.searchParams.get("scope")).toBe("bot applications.commands");
    expect(h.logs.some((l) => l.msg.includes(h!.adapter.inviteUrl))).toBe(true);
    const identify = h.discord.gateway.identifies[0]!;
    expect(identify.intents & MESSAGE_CONTENT_INTENT).toBe(MESSAGE_CONTENT_INTENT);
  });
});

describe("Discord start-up failures", () => {
  let discord: FakeDiscord | undefined;
  afterEach(async () => {
    await discord?.close();
    discord = undefined;
  });

  it("says plainly that the Message Content intent must be enabled", async () => {
    discord = await FakeDiscord.start({ messageContentAllowed: false });
    const { bot, turns, settings, access, usage, close } = await makeTestBot();
    const logs: LogLine[] = [];
    try {
      const started = startDiscord({
        bot,
        turns,
        settings,
        access,
        usage,
        config: discordConfig(discord),
        cursor: CURSOR,
        log: collectingLogger(logs),
      });
      const err = await started.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartError);
      expect((err as StartError).code).toBe("discord_disallowed_intents");
      expect((err as Error).message).toMatch(/Message Content Intent/);
      expect(discord.gateway.closeCodes).toContain(4014);
      expect(logs.some((l) => /Message Content Intent/.test(l.msg))).toBe(true);
    } finally {
      await close();
    }
  });

  it("says plainly that the token is wrong", async () => {
    discord = await FakeDiscord.start();
    const { bot, turns, settings, access, usage, close } = await makeTestBot();
    try {
      const config = { ...discordConfig(discord), token: "not-the-token" };
      const err = await startDiscord({
        bot,
        turns,
        settings,
        access,
        usage,
        config,
        cursor: CURSOR,
        log: collectingLogger([]),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as StartError).code).toBe("discord_bad_token");
      expect((err as Error).message).toMatch(/DISCORD_TOKEN/);
    } finally {
      await close();
    }
  });
});
