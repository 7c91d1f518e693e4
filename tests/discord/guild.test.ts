import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, lastModelMessages, startHarness } from "./harness.js";

const NO_PINGS = { parse: [], replied_user: false };

describe("Discord servers", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("answers a mention in a channel as a reply, with the mention stripped and other mentions as names", async () => {
    const { world } = h.discord;
    const asked = h.discord.say({
      channel: world.general,
      content: `<@${world.botUser.id}> what does <@${world.bob.id}> think of <#${world.thread.id}>?`,
    });
    const [answer] = await h.discord.waitForBotText(
      world.general.id,
      "You said: what does @Bob think of #a thread?",
    );
    expect(answer!.replyTo).toBe(asked);
    expect(lastModelMessages(h).at(-1)).toEqual({
      role: "user",
      content: "what does @Bob think of #a thread?",
    });
    // A plain channel's conversation is named by the message that started it.
    expect(await h.bot.exists(`discord:${world.guildId}:${world.general.id}:${asked}`)).toBe(true);
  });

  it("ignores channel messages that do not mention it, and answers a reply to its own message", async () => {
    const { world } = h.discord;
    h.discord.say({ channel: world.general, content: "just chatting, no bot here" });
    h.discord.say({ channel: world.general, content: `hey <@${world.botUser.id}>` });
    const [first] = await h.discord.waitForBotText(world.general.id, "You said: hey");
    h.discord.say({ channel: world.general, content: "and a follow-up", replyTo: first!.id });
    await h.discord.waitForBotText(world.general.id, "You said: and a follow-up");

    expect(h.discord.botMessages(world.general.id)).toHaveLength(2);
    expect(h.fake.requests).toHaveLength(2);
    const sent = lastModelMessages(h).filter((m) => m.role !== "system");
    expect(sent.map((m) => m.content)).toEqual(["hey", "You said: hey", "and a follow-up"]);
  });

  it("answers a mention of its role like a mention of itself, and names it when mentioned mid-sentence", async () => {
    const { world } = h.discord;
    h.discord.say({ channel: world.general, content: `<@&${world.botRoleId}> ping` });
    await h.discord.waitForBotText(world.general.id, "You said: ping");
    h.discord.say({
      channel: world.general,
      content: `what do you think, <@${world.botUser.id}>, about it?`,
    });
    await h.discord.waitForBotText(world.general.id, "You said: what do you think, @chatbot, about it?");
  });

  it("keeps a thread as its own conversation and follows it up without a mention", async () => {
    const { world } = h.discord;
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> first question` });
    await h.discord.waitForBotText(world.thread.id, "You said: first question");
    h.discord.say({ channel: world.thread, content: "second question, no mention" });
    await h.discord.waitForBotText(world.thread.id, "You said: second question, no mention");

    const sent = lastModelMessages(h).filter((m) => m.role !== "system");
    expect(sent.map((m) => m.content)).toEqual([
      "first question",
      "You said: first question",
      "second question, no mention",
    ]);
    expect(await h.bot.exists(`discord:${world.guildId}:${world.thread.id}`)).toBe(true);
    expect(await h.bot.exists(`discord:${world.guildId}:${world.general.id}`)).toBe(false);
    // The thread's follow-up does not make the parent channel answer without a mention.
    h.discord.say({ channel: world.general, content: "not for the bot" });
    h.discord.say({ channel: world.forumPost, content: `<@${world.botUser.id}> forum question` });
    await h.discord.waitForBotText(world.forumPost.id, "You said: forum question");
    expect(h.discord.botMessages(world.general.id)).toHaveLength(0);
  });

  it("sends every message and edit with mentions disabled, whatever the model writes", async () => {
    const { world } = h.discord;
    const pingy = `@everyone @here <@${world.bob.id}> <@&${world.guildId}> look at this, it is a long enough answer to be edited.`;
    h.fake.respond(() => ({ text: pingy, chunkDelayMs: 20 }));
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> ping everyone please` });
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> and here` });
    h.discord.say({ channel: world.aliceDm, content: "and in DMs" });
    await h.discord.waitForBotText(world.general.id, pingy);
    await h.discord.waitForBotText(world.thread.id, pingy);
    await h.discord.waitForBotText(world.aliceDm.id, pingy);

    const sends = h.discord.sends;
    expect(sends.filter((c) => c.method === "PATCH").length).toBeGreaterThan(0);
    for (const call of sends) expect(call.body.allowed_mentions).toEqual(NO_PINGS);
  });
});

describe("Discord servers with DISCORD_REQUIRE_MENTION", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ config: { requireMention: true } });
  });
  afterEach(async () => {
    await h.close();
  });

  it("needs a mention for every message in a thread", async () => {
    const { world } = h.discord;
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> one` });
    await h.discord.waitForBotText(world.thread.id, "You said: one");
    h.discord.say({ channel: world.thread, content: "two, without mention" });
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> three` });
    await h.discord.waitForBotText(world.thread.id, "You said: three");
    expect(h.discord.botMessages(world.thread.id)).toHaveLength(2);
  });
});
