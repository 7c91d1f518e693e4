import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastUserText } from "../fakes/llm-server.js";
import { appMentionEvent, slashCommand } from "../fakes/slackEvents.js";
import { ALICE, BOB, CHANNEL, type Harness, startHarness, waitForAnswer } from "./harness.js";

const ADMIN = { id: "U0ADMIN", name: "ada", display_name: "Ada", is_admin: true };
/** Italics as slackify-markdown writes them for Slack: between zero-width spaces. */
const italic = (text: string) => `\u200b_${text}_\u200b`;
/** 2026-03-09, 22:00 UTC: two hours before the limits reset. */
const EVENING = Date.UTC(2026, 2, 9, 22, 0, 0);

describe("Slack: usage, limits and /usage", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      bot: {
        usage: {
          limits: { userDailyTokens: 1_000 },
          prices: { "gpt-test": { input: 1, output: 2 } },
          now: () => EVENING,
        },
      },
    });
    h.slack.addUser(ADMIN);
    // Every answer reports 500 input and 350 output tokens, as the provider would.
    h.testBot.fake.respond((body) => ({
      text: `You said: ${lastUserText(body)}`,
      usage: { inputTokens: 500, outputTokens: 350 },
    }));
  });
  afterAll(() => h.close());

  const command = async (name: string, user: string, text = "") => {
    const res = await h.post.form(slashCommand(h.slack, { command: name, channel: CHANNEL, user, text }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string; response_type: string };
    expect(body.response_type).toBe("ephemeral");
    return body.text;
  };
  const ask = async (user: string, text: string) => {
    const ts = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user, text: `<@${h.slack.botUserId}> ${text}`, ts }));
    return ts;
  };

  it("the answer that takes someone past 80 % of their daily limit says so under it", async () => {
    const ts = await ask(ALICE.id, "first question");
    await waitForAnswer(
      h,
      CHANNEL,
      ts,
      `You said: first question\n\n${italic("You have used 85 % of your daily limit (850 tokens of 1,000 tokens); it resets at 00:00 UTC, in 2 h.")}`,
    );
  });

  it("/usage shows your use today and this month, the channel's, and the limits here", async () => {
    expect(await command("/usage", ALICE.id)).toBe(
      [
        "Your use here:",
        "• today: 850 tokens (500 in, 350 out) in 1 answer · $0.0012",
        "• this month: 850 tokens (500 in, 350 out) in 1 answer · $0.0012",
        "This channel (<#C0GENERAL>):",
        "• today: 850 tokens (500 in, 350 out) in 1 answer · $0.0012",
        "• this month: 850 tokens (500 in, 350 out) in 1 answer · $0.0012",
        "Daily limits here:",
        "• user-tokens: 1,000 tokens a day (85 % used today)",
        "Days end at 00:00 UTC, in 2 h.",
      ].join("\n"),
    );
    expect(await command("/usage", BOB.id)).toMatch(/^Your use here:\n• today: nothing yet\n/);
  });

  it("past the limit a question is answered with the refusal and reaches no model; others go on", async () => {
    await waitForAnswer(
      h,
      CHANNEL,
      await ask(BOB.id, "bob asks"),
      `You said: bob asks\n\n${italic("You have used 85 % of your daily limit (850 tokens of 1,000 tokens); it resets at 00:00 UTC, in 2 h.")}`,
    );
    const requests = h.testBot.fake.requests.length;
    // Alice's second answer finishes (a running turn is never cut off) and takes her past 100 %.
    const second = await ask(ALICE.id, "second question");
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, second).some((m) => m.text.includes("now used your daily limit")),
      10_000,
      "the 100 % notice",
    );
    const third = await ask(ALICE.id, "third question");
    await waitForAnswer(
      h,
      CHANNEL,
      third,
      "⚠️ You have used your daily limit of 1,000 tokens here, so I can't answer this now. It resets at 00:00 UTC, in 2 h.",
    );
    expect(h.testBot.fake.requests.length).toBe(requests + 1);
    expect(await h.testBot.bot.exists(`slack:${h.slack.teamId}:${CHANNEL}:${third}`)).toBe(false);
  });

  it("/usage top is for admins: the busiest users and channels of the workspace", async () => {
    expect(await command("/usage", BOB.id, "top")).toMatch(/^Only workspace or server admins/);
    const top = await command("/usage", ADMIN.id, "top");
    expect(top.split("\n").slice(0, 5)).toEqual([
      "Top users here today:",
      "1. <@U0ALICE>: 1,700 tokens in 2 answers · $0.0024",
      "2. <@U0BOB>: 850 tokens in 1 answer · $0.0012",
      "Top channels today:",
      "1. <#C0GENERAL>: 2,550 tokens in 3 answers · $0.0036",
    ]);
  });

  it("/chatbot limit lowers a channel's limit; a raise needs an operator admin", async () => {
    expect(await command("/chatbot", ADMIN.id, "limit user-tokens 5000")).toMatch(
      /^Only the admins the bot's operator listed/,
    );
    expect(await command("/chatbot", ADMIN.id, "limit channel-tokens 2000")).toBe(
      "Set channel-tokens for <#C0GENERAL> to 2,000 tokens a day. It applies from the next message.",
    );
    const ts = await ask(BOB.id, "the channel is over its limit now");
    await h.slack.waitFor(
      () =>
        h.slack
          .botMessagesIn(CHANNEL, ts)
          .some((m) => m.text.includes("This channel has used its daily limit of 2,000 tokens")),
      10_000,
      "the channel's refusal",
    );
    expect(await command("/usage", BOB.id)).toContain(
      "• channel-tokens: 2,000 tokens a day (127 % used today)",
    );
  });
});
