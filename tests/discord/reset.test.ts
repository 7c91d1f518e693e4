import { afterEach, describe, expect, it } from "vitest";
import { RESET_COMMAND, RESET_DONE } from "../../adapters/discord/commands.js";
import { startDiscord } from "../../adapters/discord/index.js";
import { silentLogger } from "../../src/log.js";
import { FakeDiscord } from "../fakes/discord.js";
import { makeTestBot } from "../helpers/bot.js";
import { discordConfig, type Harness, lastModelMessages, startHarness } from "./harness.js";

const EPHEMERAL = 64;

describe("/reset", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("forgets a DM conversation and answers only the person who asked", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "remember the number 42" });
    await h.discord.waitForBotText(dm.id, "You said: remember the number 42");

    const interaction = h.discord.slash({ channel: dm });
    const callback = await h.discord.waitFor(
      () => h!.discord.interactionCallbacks.find((c) => c.interactionId === interaction),
      "the /reset answer",
    );
    expect(callback.status).toBe(204);
    expect(callback.body.type).toBe(4);
    expect(callback.body.data.content).toBe(RESET_DONE);
    expect(callback.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(await h.bot.exists(`discord:dm:${dm.id}`)).toBe(false);

    h.discord.say({ channel: dm, content: "what was the number?" });
    await h.discord.waitForBotText(dm.id, "You said: what was the number?");
    expect(lastModelMessages(h).filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "what was the number?" },
    ]);
  });

  it("clears only the place it is used in: a thread, then a channel", async () => {
    h = await startHarness();
    const { world } = h.discord;
    const me = `<@${world.botUser.id}>`;
    const talk = h.discord.say({ channel: world.general, content: `${me} channel talk` });
    const other = h.discord.say({ channel: world.general, author: world.bob, content: `${me} other talk` });
    h.discord.say({ channel: world.thread, content: `${me} thread talk` });
    const answered = await h.discord.waitForBotMessage(world.general.id, "You said: channel talk");
    await h.discord.waitForBotMessage(world.general.id, "You said: other talk");
    await h.discord.waitForBotText(world.thread.id, "You said: thread talk");
    const inChannel = (id: string) => `discord:${world.guildId}:${world.general.id}:${id}`;

    const inThread = h.discord.slash({ channel: world.thread, user: world.bob });
    await h.discord.waitFor(() => h!.discord.interactionCallbacks.find((c) => c.interactionId === inThread));
    expect(await h.bot.exists(`discord:${world.guildId}:${world.thread.id}`)).toBe(false);
    expect(await h.bot.exists(inChannel(talk))).toBe(true);

    h.discord.say({ channel: world.general, content: "still there?", replyTo: answered.id });
    await h.discord.waitForBotText(world.general.id, "You said: still there?");
    expect(lastModelMessages(h).filter((m) => m.role !== "system")).toHaveLength(3);

    // In a plain channel, /reset forgets every conversation of the channel.
    const reset = h.discord.slash({ channel: world.general });
    const answer = await h.discord.waitFor(() =>
      h!.discord.interactionCallbacks.find((c) => c.interactionId === reset),
    );
    expect(answer.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(await h.bot.exists(inChannel(talk))).toBe(false);
    expect(await h.bot.exists(inChannel(other))).toBe(false);

    // A reply to an answer from before the reset starts afresh.
    h.discord.say({ channel: world.general, content: "and now?", replyTo: answered.id });
    await h.discord.waitForBotText(world.general.id, "You said: and now?");
    expect(lastModelMessages(h).filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "and now?" },
    ]);
  });

  it("stops an answer being written in that place, which still gets its final edit", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    h.fake.respond(() => ({
      text: "a very slow answer that will not be finished in time",
      chunkDelayMs: 400,
    }));
    h.discord.say({ channel: dm, content: "talk slowly" });
    await h.discord.waitFor(() => h!.discord.botMessages(dm.id).length === 1, "the answer to start");

    const interaction = h.discord.slash({ channel: dm });
    await h.discord.waitFor(() =>
      h!.discord.interactionCallbacks.find((c) => c.interactionId === interaction),
    );
    const [message] = h.discord.botMessages(dm.id);
    expect(message!.content).toMatch(/Stopped\._$/);
    expect(message!.content).not.toContain("▌");
    expect(await h.bot.exists(`discord:dm:${dm.id}`)).toBe(false);
  });
  it("acknowledges at once and answers later when stopping the running answer takes a while", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    h.fake.respond(() => ({
      text: "an answer that is stopped while Discord rate limits its edits",
      chunkDelayMs: 300,
    }));
    h.discord.say({ channel: dm, content: "talk slowly" });
    await h.discord.waitFor(() => h!.discord.botMessages(dm.id).length === 1, "the answer to start");
    // The stopped answer's final edit must wait out a 429 first.
    h.discord.failNext({ method: "PATCH", path: /\/messages\/\d+$/, status: 429, retryAfterS: 2 });

    const interaction = h.discord.slash({ channel: dm });
    const edited = await h.discord.waitFor(() =>
      h!.discord.interactionCallbacks.find((c) => c.interactionId === interaction && c.body.type === "edit"),
    );
    const [deferred] = h.discord.interactionCallbacks.filter((c) => c.interactionId === interaction);
    expect(deferred!.body.type).toBe(5);
    expect(deferred!.status).toBe(204);
    expect(deferred!.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(edited.body.data.content).toBe(RESET_DONE);
    expect(h.discord.botMessages(dm.id)[0]!.content).toMatch(/Stopped\._$/);
    expect(await h.bot.exists(`discord:dm:${dm.id}`)).toBe(false);
  });
});

describe("/reset registration", () => {
  let discord: FakeDiscord;
  afterEach(async () => {
    await discord.close();
  });

  it("registers /reset globally and in DISCORD_GUILD_ID, and writes nothing when it is already there", async () => {
    discord = await FakeDiscord.start();
    const { world } = discord;
    const config = discordConfig(discord, { guildId: world.guildId });
    const { bot, turns, settings, access, usage, close } = await makeTestBot();
    const start = () =>
      startDiscord({ bot, turns, settings, access, usage, config, cursor: "▌", log: silentLogger() });
    try {
      const first = await start();
      await first.stop(0);
      const global = discord.commands.get("global")!;
      expect(global.map((c) => c.name)).toEqual(["reset", "config", "usage"]);
      // Works in servers (0) and in DMs with the bot (1).
      expect([...global[0].contexts].sort()).toEqual([0, 1]);
      expect(discord.commands.get(world.guildId)!.map((c) => c.name)).toEqual(["reset", "config", "usage"]);
      const puts = () =>
        discord.calls.filter((c) => c.method === "PUT" && c.path.endsWith("/commands")).length;
      expect(puts()).toBe(2);

      const second = await start();
      await second.stop(0);
      expect(puts()).toBe(2);

      // A changed description is written again.
      discord.setCommands("global", [{ ...RESET_COMMAND, description: "old text" }]);
      const third = await start();
      await third.stop(0);
      expect(puts()).toBe(3);
      expect(discord.commands.get("global")![0].description).toBe(RESET_COMMAND.description);
    } finally {
      await close();
    }
  });
});
