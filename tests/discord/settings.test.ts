import { afterEach, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.js";
import { type Harness, startHarness } from "./harness.js";

const EPHEMERAL = 64;
/** Permissions without Manage Server (View Channel, Send Messages, Read Message History). */
const MEMBER = String((1 << 10) | (1 << 11) | (1 << 16));

describe("Discord: /config and who may use the bot", () => {
  let h: Harness | undefined;
  let anthropic: FakeAnthropic | undefined;
  afterEach(async () => {
    await h?.close();
    await anthropic?.close();
    h = undefined;
    anthropic = undefined;
  });

  /** Runs /config <sub> with options; resolves with the ephemeral answer's text. */
  async function config(
    sub: string,
    options: unknown[] = [],
    extra: { permissions?: string; bob?: boolean } = {},
  ) {
    const d = h!.discord;
    const id = d.slash({
      channel: d.world.general,
      name: "config",
      options: [{ name: sub, type: 1, options }],
      ...(extra.permissions ? { permissions: extra.permissions } : {}),
      ...(extra.bob ? { user: d.world.bob } : {}),
    });
    const callback = await d.waitFor(
      () => d.interactionCallbacks.find((c) => c.interactionId === id),
      "/config",
    );
    expect(callback.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    return callback.body.data.content as string;
  }

  it("registers /config for Manage Server, with the operator's models as choices", async () => {
    anthropic = await FakeAnthropic.start();
    h = await startHarness({ bot: { anthropic } });
    const registered = h.discord.commands.get("global")!.find((c) => c.name === "config")! as unknown as {
      default_member_permissions: string;
      options: Array<{ name: string; options?: Array<{ name: string; choices?: Array<{ value: string }> }> }>;
    };
    expect(registered.default_member_permissions).toBe(String(1 << 5));
    expect(registered.options.map((o) => o.name)).toEqual([
      "show",
      "model",
      "prompt",
      "reply-to-all",
      "memory",
      "limit",
    ]);
    const model = registered.options.find((o) => o.name === "model")!;
    expect(model.options![0]!.choices!.map((c) => c.value)).toEqual(["gpt-test", "claude-test", "clear"]);
  });

  it("an admin sets this channel's model and prompt; the next turn goes to that provider with that prompt", async () => {
    anthropic = await FakeAnthropic.start();
    h = await startHarness({ bot: { anthropic } });
    const { world } = h.discord;
    expect(await config("model", [{ name: "name", type: 3, value: "claude-test" }])).toMatch(
      /Set model for <#\d+> to claude-test/,
    );
    expect(await config("prompt", [{ name: "text", type: 3, value: "Be brief." }])).toMatch(/Set prompt/);
    h.discord.say({ channel: world.general, content: `<@${world.botUser.id}> hi there` });
    await h.discord.waitForBotText(world.general.id, "You said: hi there");
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.lastBody.system).toEqual("Be brief.");
    // A thread inherits its channel's settings.
    h.discord.say({ channel: world.thread, content: `<@${world.botUser.id}> in the thread` });
    await h.discord.waitForBotText(world.thread.id, "You said: in the thread");
    expect(anthropic.requests).toHaveLength(2);
    expect(await config("show")).toContain("• model: claude-test (set for this channel)");
  });

  it("refuses a member without Manage Server, and nothing changes", async () => {
    h = await startHarness();
    const answer = await config("memory", [{ name: "value", type: 3, value: "off" }], {
      permissions: MEMBER,
    });
    expect(answer).toMatch(/Only workspace or server admins/);
    expect(await config("show")).toContain("• memory: on (the bot's default)");
    // The server default, set by an admin.
    expect(
      await config("memory", [
        { name: "value", type: 3, value: "off" },
        { name: "server", type: 5, value: true },
      ]),
    ).toMatch(/Set memory for this workspace to off/);
    expect(await config("show")).toContain("• memory: off (set for the workspace)");
  });

  it("reply-to-all answers an unmentioned message in that channel", async () => {
    h = await startHarness();
    const { world } = h.discord;
    h.discord.say({ channel: world.general, content: "nobody asked the bot" });
    expect(await config("reply-to-all", [{ name: "value", type: 3, value: "on" }])).toMatch(/to on/);
    h.discord.say({ channel: world.general, content: "now everyone is answered" });
    await h.discord.waitForBotText(world.general.id, "You said: now everyone is answered");
    expect(h.fake.requests.map((r) => JSON.stringify(r.body))).not.toContainEqual(
      expect.stringContaining("nobody asked"),
    );
  });

  it("a blocked user reaches no model and no memory, and is told once, in a DM", async () => {
    h = await startHarness({ bot: (discord) => ({ access: { blockUsers: [discord.world.bob.id] } }) });
    const d = h.discord;
    const me = `<@${d.world.botUser.id}>`;
    const refused = [
      d.say({ channel: d.world.general, content: `${me} first`, author: d.world.bob }),
      d.say({ channel: d.world.general, content: `${me} second`, author: d.world.bob }),
    ];
    const asked = d.say({ channel: d.world.general, content: `${me} from alice` });
    await d.waitForBotText(d.world.general.id, "You said: from alice");
    const dm = await d.waitFor(() => {
      const sent = d.botMessages(d.world.bobDm.id);
      return sent.length > 0 ? sent : undefined;
    }, "the DM to Bob");
    expect(dm.map((m) => m.content)).toEqual([
      "Sorry, the people running this bot have not given you access to it.",
    ]);
    expect(h.fake.requests).toHaveLength(1);
    // Each mention in a plain channel is its own conversation: Bob's left nothing in memory.
    const conversation = (id: string) => `discord:${d.world.guildId}:${d.world.general.id}:${id}`;
    const history = await h.bot.history(conversation(asked));
    expect(history.map((m) => m.text)).toEqual(["from alice", "You said: from alice"]);
    for (const id of refused) expect(await h.bot.exists(conversation(id))).toBe(false);
  });
});
