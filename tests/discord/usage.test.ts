import { afterEach, describe, expect, it } from "vitest";
import { lastUserText } from "../fakes/llm-server.js";
import { type Harness, startHarness } from "./harness.js";

const EPHEMERAL = 64;
/** Permissions without Manage Server (View Channel, Send Messages, Read Message History). */
const MEMBER = String((1 << 10) | (1 << 11) | (1 << 16));
/** 2026-03-09, 21:30 UTC. */
const EVENING = Date.UTC(2026, 2, 9, 21, 30, 0);

describe("Discord: usage, limits and /usage", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** Runs a slash command; resolves with its ephemeral answer's text. */
  async function slash(
    name: string,
    options: unknown[] = [],
    extra: { permissions?: string; bob?: boolean } = {},
  ) {
    const d = h!.discord;
    const id = d.slash({
      channel: d.world.general,
      name,
      options,
      ...(extra.permissions ? { permissions: extra.permissions } : {}),
      ...(extra.bob ? { user: d.world.bob } : {}),
    });
    const callback = await d.waitFor(() => d.interactionCallbacks.find((c) => c.interactionId === id), name);
    expect(callback.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(callback.body.data.allowed_mentions).toEqual({ parse: [] });
    return callback.body.data.content as string;
  }

  it("registers /usage beside /reset and /config, for servers and DMs", async () => {
    h = await startHarness();
    const usage = h.discord.commands.get("global")!.find((c) => c.name === "usage") as unknown as {
      contexts: number[];
      options: Array<{ name: string; type: number }>;
    };
    expect([...usage.contexts].sort()).toEqual([0, 1]);
    expect(usage.options).toMatchObject([{ name: "top", type: 5 }]);
  });

  it("/usage shows the numbers the provider reported; the 80 % notice; the refusal past the limit", async () => {
    h = await startHarness({ bot: { usage: { limits: { userDailyTokens: 400 }, now: () => EVENING } } });
    const { world } = h.discord;
    h.fake.respond((body) => ({
      text: `You said: ${lastUserText(body)}`,
      usage: { inputTokens: 200, outputTokens: 130 },
    }));
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> how much is this?` });
    await h.discord.waitForBotText(
      world.general.id,
      "You said: how much is this?\n\n_You have used 82 % of your daily limit (330 tokens of 400 tokens); it resets at 00:00 UTC, in 2 h 30 min._",
    );
    expect(await slash("usage")).toBe(
      [
        "Your use here:",
        "• today: 330 tokens (200 in, 130 out) in 1 answer",
        "• this month: 330 tokens (200 in, 130 out) in 1 answer",
        `This channel (<#${world.general.id}>):`,
        "• today: 330 tokens (200 in, 130 out) in 1 answer",
        "• this month: 330 tokens (200 in, 130 out) in 1 answer",
        "Daily limits here:",
        "• user-tokens: 400 tokens a day (82 % used today)",
        "Days end at 00:00 UTC, in 2 h 30 min.",
      ].join("\n"),
    );
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> and this?` });
    await h.discord.waitFor(
      () =>
        h!.discord.botMessages(world.general.id).some((m) => m.content.includes("now used your daily limit")),
      "the 100 % notice",
    );
    const requests = h.fake.requests.length;
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> one more?` });
    await h.discord.waitForBotText(
      world.general.id,
      "⚠️ You have used your daily limit of 400 tokens here, so I can't answer this now. It resets at 00:00 UTC, in 2 h 30 min.",
    );
    expect(h.fake.requests.length).toBe(requests);
    const history = await h.bot.history(`discord:${world.guildId}:${world.general.id}`);
    expect(history.map((m) => m.text)).not.toContain("one more?");
  });

  it("/usage top:True is for Manage Server; /config limit sets a channel's limit", async () => {
    h = await startHarness({ bot: { usage: { now: () => EVENING } } });
    const { world } = h.discord;
    h.fake.respond((body) => ({
      text: `You said: ${lastUserText(body)}`,
      usage: { inputTokens: 10, outputTokens: 5 },
    }));
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> hello` });
    await h.discord.waitForBotText(world.general.id, "You said: hello");
    const top = [{ name: "top", type: 5, value: true }];
    expect(await slash("usage", top, { permissions: MEMBER, bob: true })).toMatch(
      /^Only workspace or server admins/,
    );
    expect((await slash("usage", top)).split("\n").slice(0, 4)).toEqual([
      "Top users here today:",
      `1. <@${world.alice.id}>: 15 tokens in 1 answer`,
      "Top channels today:",
      `1. <#${world.general.id}>: 15 tokens in 1 answer`,
    ]);
    const limit = (value: string) => [
      {
        name: "limit",
        type: 1,
        options: [
          { name: "which", type: 3, value: "channel-tokens" },
          { name: "value", type: 3, value },
        ],
      },
    ];
    expect(await slash("config", limit("lots"))).toMatch(/^Give the limit as a number/);
    expect(await slash("config", limit("15"))).toBe(
      `Set channel-tokens for <#${world.general.id}> to 15 tokens a day. It applies from the next message.`,
    );
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> over?`, author: world.bob });
    await h.discord.waitForBotText(
      world.general.id,
      "⚠️ This channel has used its daily limit of 15 tokens, so I can't answer here now. It resets at 00:00 UTC, in 2 h 30 min.",
    );
  });
});
