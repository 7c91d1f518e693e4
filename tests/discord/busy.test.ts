import { afterEach, describe, expect, it } from "vitest";
import type { RestCall } from "../fakes/discord.js";
import { CURSOR, type Harness, startHarness } from "./harness.js";

/** The most message creates and edits that reached one channel within any `windowMs`. */
function busiestWindow(calls: RestCall[], channelId: string, windowMs: number): number {
  const at = calls
    .filter((c) => c.path.startsWith(`/channels/${channelId}/messages`) && c.method !== "GET")
    .map((c) => c.at)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("Discord: a busy plain channel", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("answers ten people at once, each in a conversation of their own, sharing the channel's budget", async () => {
    const edits = 25;
    h = await startHarness({
      config: { editsPer5s: edits },
      discord: { messageLimit: { requests: edits, perMs: 5_000 } },
    });
    const { world } = h.discord;
    h.fake.respond((body) => ({
      text: `Answer for ${body.messages.at(-1).content}, written slowly enough to be edited.`,
      chunkDelayMs: 60,
    }));
    const people = Array.from({ length: 10 }, (_, i) => {
      const author = i % 2 ? world.bob : world.alice;
      return {
        author,
        asked: h.discord.say({ channel: world.general, author, content: `<@${world.botUser.id}> q${i}` }),
      };
    });
    // Every question reaches the model while every answer is still being written.
    await h.discord.waitFor(() => h.fake.requests.length === 10, "ten model requests");
    expect(h.discord.botMessages(world.general.id).every((m) => m.content.endsWith(CURSOR))).toBe(true);

    for (const [i, p] of people.entries()) {
      const answer = await h.discord.waitForBotMessage(
        world.general.id,
        `Answer for q${i}, written slowly enough to be edited.`,
      );
      expect(answer.replyTo).toBe(p.asked);
      await h.discord.waitFor(() => answer.states.at(-1)!.buttons.join() === "Regenerate", "Regenerate");
      const history = await h.bot.history(`discord:${world.guildId}:${world.general.id}:${p.asked}`);
      expect(history.map((m) => m.text)).toEqual([`q${i}`, answer.content]);
    }
    expect(h.discord.calls.filter((c) => c.status === 429)).toEqual([]);
    expect(busiestWindow(h.discord.calls, world.general.id, 5_000)).toBeLessThanOrEqual(edits);
  });

  it("stays within Discord's 5 messages and edits per 5 s per channel, buttons included", async () => {
    h = await startHarness({ discord: { messageLimit: { requests: 5, perMs: 5_000 } } });
    const { world } = h.discord;
    h.fake.respond((body) => ({ text: `Answer for ${body.messages.at(-1).content}.`, chunkDelayMs: 40 }));
    for (const q of ["one", "two", "three"]) {
      h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> ${q}` });
    }
    for (const q of ["one", "two", "three"]) {
      const answer = await h.discord.waitForBotMessage(world.general.id, `Answer for ${q}.`, 30_000);
      await h.discord.waitFor(
        () => answer.states.at(-1)!.buttons.join() === "Regenerate",
        "Regenerate",
        30_000,
      );
    }
    expect(h.discord.calls.filter((c) => c.status === 429)).toEqual([]);
    expect(busiestWindow(h.discord.calls, world.general.id, 5_000)).toBeLessThanOrEqual(5);
  });
});
