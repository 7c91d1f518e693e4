import { afterEach, describe, expect, it } from "vitest";
import { parseSettingsCommand, runSettingsCommand } from "../../src/settings/index.js";
import type { StreamItem } from "../../src/stream/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { makeTestBot, type TestBot, type TestBotOptions } from "../helpers/bot.js";

const channel = { platform: "slack", workspace: "T1", channel: "C1" };
const dm = { platform: "slack", workspace: "T1", channel: "D1", isDm: true };
/** 2026-03-09, 22:00 UTC. */
const EVENING = Date.UTC(2026, 2, 9, 22, 0, 0);

let n = 0;
function ask(text: string, user = "U1", where: Incoming["place"] = channel): Incoming {
  n++;
  return {
    conversationId: `slack:T1:${where?.channel}:${n}`,
    author: { id: user, name: user },
    text,
    platform: "slack",
    place: where,
  };
}

async function run(t: TestBot, incoming: Incoming): Promise<{ text: string; notices: string[] }> {
  let text = "";
  const notices: string[] = [];
  for await (const item of t.bot.reply(incoming) as AsyncIterable<StreamItem>) {
    if (typeof item === "string") text += item;
    else if (item.type === "notice") notices.push(item.text);
  }
  return { text, notices };
}

/** A model answer that reports exactly this many tokens (input, output). */
const uses = (input: number, output: number) => ({
  text: "Sure.",
  usage: { inputTokens: input, outputTokens: output },
});

describe("usage: daily limits", () => {
  let t: TestBot | undefined;
  let clock = EVENING;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    clock = EVENING;
  });
  const start = (limits: NonNullable<TestBotOptions["usage"]>["limits"], more: TestBotOptions = {}) =>
    makeTestBot({ ...more, usage: { limits, now: () => clock, ...more.usage } });

  it("an answer that takes you past 80 % carries one notice; past 100 % the next question is refused before any model call, and nothing is stored", async () => {
    t = await start({ userDailyTokens: 1_000 });
    t.fake.enqueue(uses(400, 100), uses(300, 50), uses(100, 100));
    expect((await run(t, ask("one"))).notices).toEqual([]);
    const second = await run(t, ask("two"));
    expect(second.text).toBe("Sure.");
    expect(second.notices).toEqual([
      "_You have used 85 % of your daily limit (850 tokens of 1,000 tokens); it resets at 00:00 UTC, in 2 h._",
    ]);
    const third = await run(t, ask("three"));
    expect(third.notices).toEqual([
      "_You have now used your daily limit (1,050 tokens of 1,000 tokens): new questions wait until 00:00 UTC, in 2 h._",
    ]);
    const requests = t.fake.requests.length;
    const refused = ask("four");
    await expect(run(t, refused)).rejects.toMatchObject({
      code: "limit_reached",
      userMessage:
        "You have used your daily limit of 1,000 tokens here, so I can't answer this now. It resets at 00:00 UTC, in 2 h.",
      retryAfterMs: 2 * 3600 * 1000,
    });
    expect(t.fake.requests.length).toBe(requests);
    expect(await t.bot.exists(refused.conversationId)).toBe(false);
    expect((await t.usage.summary(channel, "U1")).user.today.turns).toBe(3);
    // Someone else in the same channel is not held to U1's limit.
    t.fake.enqueue(uses(10, 10));
    expect((await run(t, ask("mine", "U2"))).text).toBe("Sure.");
  });

  it("the limit resets at the UTC day boundary (injected clock)", async () => {
    clock = Date.UTC(2026, 2, 31, 23, 59, 30);
    t = await start({ userDailyTokens: 100 });
    t.fake.enqueue(uses(90, 20));
    await run(t, ask("use it all"));
    await expect(run(t, ask("one more"))).rejects.toMatchObject({
      code: "limit_reached",
      userMessage: expect.stringContaining("It resets at 00:00 UTC, in under a minute."),
    });
    clock = Date.UTC(2026, 3, 1, 0, 0, 1);
    t.fake.enqueue(uses(5, 5));
    expect((await run(t, ask("a new day"))).text).toBe("Sure.");
    const summary = await t.usage.summary(channel, "U1");
    expect(summary.user.today.turns).toBe(1);
    // The new month's first day: the month so far is that day alone.
    expect(summary.user.month.turns).toBe(1);
  });

  it("a channel's limit holds everyone there, not in DMs; a running turn is not cut off", async () => {
    t = await start({ channelDailyTokens: 500 });
    t.fake.enqueue({ ...uses(300, 300), chunks: ["Long ", "answer ", "goes on"], chunkDelayMs: 5 });
    const long = await run(t, ask("long one", "U1"));
    expect(long.text).toBe("Long answer goes on");
    expect(long.notices).toEqual([
      "_This channel has now used its daily limit (600 tokens of 500 tokens): new questions here wait until 00:00 UTC, in 2 h._",
    ]);
    await expect(run(t, ask("me too", "U2"))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/^This channel has used its daily limit of 500 tokens/),
    });
    t.fake.enqueue(uses(1, 1));
    expect((await run(t, ask("in a DM", "U2", dm))).text).toBe("Sure.");
  });

  it("cost limits count at the model's price", async () => {
    t = await start(
      { userDailyCost: 0.01 },
      { usage: { prices: { "gpt-test": { input: 10, output: 30 } } } },
    );
    // 500 in at $10/M + 200 out at $30/M = $0.011
    t.fake.enqueue(uses(500, 200));
    expect((await run(t, ask("pricey"))).notices).toEqual([
      "_You have now used your daily limit ($0.011 of $0.01): new questions wait until 00:00 UTC, in 2 h._",
    ]);
    await expect(run(t, ask("again"))).rejects.toMatchObject({
      userMessage: expect.stringContaining("daily limit of $0.01 here"),
    });
  });

  it("the operator's admins are exempt (counted, never refused); platform admins are not", async () => {
    t = await start({ userDailyTokens: 100 }, { admins: ["UOPS"] });
    t.fake.enqueue(uses(200, 0), uses(200, 0), uses(200, 0));
    expect((await run(t, ask("a", "UOPS"))).notices).toEqual([]);
    expect((await run(t, ask("b", "UOPS"))).text).toBe("Sure.");
    expect((await t.usage.summary(channel, "UOPS")).user.today.inputTokens).toBe(400);
    await run(t, ask("c", "UADMIN"));
    await expect(run(t, ask("d", "UADMIN"))).rejects.toMatchObject({ code: "limit_reached" });
  });

  it("a place overrides the operator's limit through the settings; only operator admins may raise it", async () => {
    t = await start({ userDailyTokens: 1_000 }, { admins: ["UOPS"] });
    const slackAdmin = { id: "UADMIN", name: "Ada", isPlatformAdmin: true };
    const operator = { id: "UOPS", name: "Ops" };
    const command = (text: string, actor: { id: string; name: string }) =>
      runSettingsCommand(parseSettingsCommand(text), channel, actor, t!);
    expect(await command("limit user-tokens 2000", slackAdmin)).toBe(
      "Only the admins the bot's operator listed can set user-tokens above the bot's default (1,000 tokens a day), or to none. Nothing was changed.",
    );
    expect(await command("limit user-tokens none", slackAdmin)).toMatch(/^Only the admins/);
    expect(await command("limit user-tokens 50", slackAdmin)).toBe(
      "Set user-tokens for <#C1> to 50 tokens a day. It applies from the next message.",
    );
    expect(await command("limit user-cost 1", slackAdmin)).toMatch(/^No model has a price/);
    expect(await command("show", slackAdmin)).toContain(
      "• user-tokens: 50 tokens a day (set for this channel)",
    );
    t.fake.enqueue(uses(40, 20));
    await run(t, ask("small budget here"));
    await expect(run(t, ask("over it"))).rejects.toMatchObject({
      userMessage: expect.stringContaining("daily limit of 50 tokens"),
    });
    expect(await command("limit user-tokens 5k --workspace", operator)).toMatch(
      /Set user-tokens for this workspace/,
    );
    expect(await command("limit user-tokens clear", operator)).toMatch(/^Cleared user-tokens for <#C1>/);
    t.fake.enqueue(uses(1, 1));
    expect((await run(t, ask("the workspace's 5,000 apply now"))).text).toBe("Sure.");
    expect(await command("limit tokens 5", operator)).toMatch(/^Say which limit and how much/);
  });
});
