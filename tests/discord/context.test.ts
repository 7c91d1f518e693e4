import { afterEach, describe, expect, it } from "vitest";
import { CONTEXT_MESSAGES } from "../../adapters/discord/context.js";
import { type Harness, lastModelMessages, startHarness } from "./harness.js";

const said = (h: Harness) => lastModelMessages(h).filter((m) => m.role !== "system");

describe("Discord: the context people point at", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("mentioned mid-thread, reads the thread's earlier messages (the newest, with authors) once", async () => {
    h = await startHarness({ bot: { contextTokens: 100_000 } });
    const { world } = h.discord;
    const total = CONTEXT_MESSAGES + 5;
    for (let i = 0; i < total; i++) {
      h.discord.say({ channel: world.thread, author: i % 2 ? world.alice : world.bob, content: `note ${i}` });
    }
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> summarize this` });
    await h.discord.waitForBotText(world.thread.id, "You said: [Alice] summarize this");

    const earlier = Array.from({ length: CONTEXT_MESSAGES }, (_, k) => {
      const i = total - CONTEXT_MESSAGES + k;
      return { role: "user", content: `[${i % 2 ? "Alice" : "Bob"}] note ${i}` };
    });
    expect(said(h)).toEqual([...earlier, { role: "user", content: "[Alice] summarize this" }]);
    const reads = () => h.discord.callsTo("GET", new RegExp(`^/channels/${world.thread.id}/messages$`));
    expect(reads()).toHaveLength(1);
    expect(reads()[0]!.query).toMatchObject({ limit: String(CONTEXT_MESSAGES) });

    // Followed from now on, from memory: no second read.
    h.discord.say({ channel: world.thread, author: world.bob, content: "and the follow-up" });
    await h.discord.waitForBotText(world.thread.id, "You said: [Bob] and the follow-up");
    expect(said(h)).toHaveLength(CONTEXT_MESSAGES + 3);
    expect(reads()).toHaveLength(1);
  });

  it("reads the message a thread was started from", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const root = h.discord.say({
      channel: world.general,
      author: world.bob,
      content: "the build is red again",
    });
    const thread = h.discord.startThread({ from: root, name: "red build" });
    h.discord.say({ channel: thread, content: `<@${world.botUser.id}> why?` });
    await h.discord.waitForBotText(thread.id, "You said: [Alice] why?");
    expect(said(h)).toEqual([
      { role: "user", content: "[Bob] the build is red again" },
      { role: "user", content: "[Alice] why?" },
    ]);
  });

  it("answers a mention in a forum post in that post, with the post's message, and follows the post", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const { post } = h.discord.startForumPost({
      name: "Printer on fire",
      content: "My printer is on fire, what now?",
      author: world.bob,
    });
    h.discord.say({ channel: post, content: `<@${world.botUser.id}> what should Bob do?` });
    await h.discord.waitForBotText(post.id, "You said: [Alice] what should Bob do?");
    expect(said(h)).toEqual([
      { role: "user", content: "[Bob] My printer is on fire, what now?" },
      { role: "user", content: "[Alice] what should Bob do?" },
    ]);
    h.discord.say({ channel: post, author: world.bob, content: "it is out now, thanks" });
    await h.discord.waitForBotText(post.id, "You said: [Bob] it is out now, thanks");
    expect(h.discord.botMessages(post.id)).toHaveLength(2);
    expect(await h.bot.exists(`discord:${world.guildId}:${post.id}`)).toBe(true);

    // A post that opens with a mention is answered in the post too.
    const opened = h.discord.startForumPost({ name: "Quick one", content: `<@${world.botUser.id}> hello?` });
    const [answer] = await h.discord.waitForBotText(opened.post.id, "You said: hello?");
    expect(answer!.replyTo).toBe(opened.messageId);
  });

  it("brings the replied-to message of someone else, text and attachments, into the question", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const log = h.discord.attachment("deploy.log", "step 3: killed (exit code 137)\n", "text/plain");
    const theirs = h.discord.say({
      channel: world.general,
      author: world.bob,
      content: "the deploy failed again",
      attachments: [log],
    });
    h.discord.say({
      channel: world.general,
      content: `<@${world.botUser.id}> what does this mean?`,
      replyTo: theirs,
    });
    await h.discord.waitFor(() => h.fake.requests.length === 1, "the model request");
    expect(said(h)).toEqual([
      {
        role: "user",
        content:
          // The replied-to message's files are read like the question's own, after its text.
          "In reply to this message by Bob:\n> the deploy failed again\n\nwhat does this mean?\n\nAttached file deploy.log:\n```\nstep 3: killed (exit code 137)\n\n```",
      },
    ]);
  });

  it("reads a forwarded message's text and attachments as the question", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const notes = h.discord.attachment("notes.md", "# Q3 plan\n- ship the bot\n", "text/markdown");
    const original = h.discord.say({
      channel: world.general,
      author: world.bob,
      content: `the plan for <#${world.thread.id}>`,
      attachments: [notes],
    });
    h.discord.say({ channel: world.aliceDm, content: "", forward: original });
    await h.discord.waitFor(() => h.fake.requests.length === 1, "the model request");
    expect(said(h)).toEqual([
      {
        role: "user",
        content:
          "Forwarded message:\n> the plan for #a thread\n\nAttached file notes.md:\n```\n# Q3 plan\n- ship the bot\n\n```",
      },
    ]);
    await h.discord.waitForBotText(world.aliceDm.id, `You said: ${said(h)[0]!.content}`);
  });
});

describe("Discord: typing while the model thinks", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("shows typing, renewed until the first words appear, and no placeholder message", async () => {
    h = await startHarness({ adapter: { typingRenewMs: 100 } });
    const dm = h.discord.world.aliceDm;
    h.fake.respond(() => ({
      text: "Thinking done: here is the answer to your question.",
      firstDelayMs: 700,
      chunkDelayMs: 40,
    }));
    h.discord.say({ channel: dm, content: "think hard" });
    const [first] = await h.discord.waitFor(() => {
      const mine = h.discord.botMessages(dm.id);
      return mine.length > 0 ? mine : undefined;
    }, "the answer to appear");
    const typingBefore = h.discord.typingIn(dm.id).length;
    expect(typingBefore).toBeGreaterThanOrEqual(2);
    // The first message already has words in it.
    expect(first!.states[0]!.content).toMatch(/^T/);
    await h.discord.waitForBotText(dm.id, "Thinking done: here is the answer to your question.");
    // Streaming took many renewal periods; at most a request already on its way arrived after.
    expect(h.discord.typingIn(dm.id).length - typingBefore).toBeLessThanOrEqual(1);
  });

  it("stops typing when the model fails", async () => {
    h = await startHarness({ adapter: { typingRenewMs: 100 } });
    const dm = h.discord.world.aliceDm;
    h.fake.respond(() => ({ status: 500, firstDelayMs: 400 }));
    h.discord.say({ channel: dm, content: "fail please" });
    const [message] = await h.discord.waitFor(() => {
      const mine = h.discord.botMessages(dm.id);
      return mine.length > 0 ? mine : undefined;
    }, "the error to be shown");
    expect(message!.content).toMatch(/^⚠️ /);
    const typing = h.discord.typingIn(dm.id).length;
    expect(typing).toBeGreaterThanOrEqual(2);
    // Another whole exchange elsewhere, many renewal periods long: no more typing in the DM.
    h.fake.respond(() => ({ text: "a slow answer elsewhere", chunkDelayMs: 50 }));
    h.discord.say({ channel: h.discord.world.bobDm, author: h.discord.world.bob, content: "hi" });
    await h.discord.waitForBotText(h.discord.world.bobDm.id, "a slow answer elsewhere");
    expect(h.discord.typingIn(dm.id).length - typing).toBeLessThanOrEqual(1);
  });
});
