import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent, messageEvent, slashCommand } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, DM, type Harness, startHarness, waitForAnswer } from "./harness.js";

describe("Slack: direct messages and reset", () => {
  let h: Harness;
  let bot: string;
  let team: string;
  /** The bot's last message in a DM, top level. */
  const lastTopLevel = (channel: string) =>
    h.slack
      .botMessagesIn(channel)
      .filter((m) => !m.thread_ts)
      .at(-1)?.text;

  beforeAll(async () => {
    h = await startHarness();
    bot = h.slack.botUserId;
    team = h.slack.teamId;
    h.testBot.fake.respond((body) => ({ text: `I have read ${body.messages.length - 1} messages.` }));
  });
  afterAll(() => h.close());

  const dm = (text: string, thread_ts?: string) => {
    const ts = h.slack.nextTs();
    return { ts, send: () => h.deliver(messageEvent({ channel: DM, user: ALICE.id, text, ts, thread_ts })) };
  };

  it("answers every top-level DM at the top level, as one conversation", async () => {
    await dm("hello").send();
    await h.slack.waitFor(() => lastTopLevel(DM) === "I have read 1 messages.", 10_000, "first DM answer");
    await dm("and again").send();
    await h.slack.waitFor(() => lastTopLevel(DM) === "I have read 3 messages.", 10_000, "second DM answer");
    expect(h.slack.botMessagesIn(DM).every((m) => m.thread_ts === undefined)).toBe(true);
    expect(await h.testBot.bot.history(`slack:${team}:${DM}`)).toHaveLength(4);
  });

  it("keeps a threaded DM message in its own thread conversation", async () => {
    const parent = dm("a thread starts here");
    await parent.send();
    await h.slack.waitFor(() => lastTopLevel(DM) === "I have read 5 messages.", 10_000, "third DM answer");
    await dm("in the thread", parent.ts).send();
    // The thread's first message (its parent) comes along as context.
    await waitForAnswer(h, DM, parent.ts, "I have read 2 messages.");
    expect(await h.testBot.bot.exists(`slack:${team}:${DM}:${parent.ts}`)).toBe(true);
  });

  it("/reset in a DM forgets the DM conversation and its threads, confirmed ephemerally", async () => {
    const res = await h.post.form(slashCommand(h.slack, { channel: DM, user: ALICE.id }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.response_type).toBe("ephemeral");
    expect(body.text).toMatch(/forgot our direct-message conversation/);
    expect(await h.testBot.bot.exists(`slack:${team}:${DM}`)).toBe(false);
    const threads = h.slack.botMessagesIn(DM).filter((m) => m.thread_ts);
    expect(await h.testBot.bot.exists(`slack:${team}:${DM}:${threads[0]!.thread_ts}`)).toBe(false);

    await dm("fresh start").send();
    await h.slack.waitFor(() => lastTopLevel(DM) === "I have read 1 messages.", 10_000, "answer after reset");
  });

  it("/reset in a channel forgets every conversation of the bot there and nowhere else", async () => {
    const threads: string[] = [];
    for (const channel of [CHANNEL, CHANNEL, "C0RANDOM"]) {
      const ts = h.slack.nextTs();
      threads.push(ts);
      await h.deliver(appMentionEvent({ channel, user: ALICE.id, text: `<@${bot}> remember me`, ts }));
      await waitForAnswer(h, channel, ts, "I have read 1 messages.");
    }
    const res = await h.post.form(slashCommand(h.slack, { channel: CHANNEL, user: ALICE.id }));
    const body = await res.json();
    expect(body).toEqual({
      response_type: "ephemeral",
      text: expect.stringContaining(`every conversation I had in <#${CHANNEL}>`),
    });
    expect(await h.testBot.bot.exists(`slack:${team}:${CHANNEL}:${threads[0]}`)).toBe(false);
    expect(await h.testBot.bot.exists(`slack:${team}:${CHANNEL}:${threads[1]}`)).toBe(false);
    expect(await h.testBot.bot.exists(`slack:${team}:C0RANDOM:${threads[2]}`)).toBe(true);
    // Nothing was posted for everyone to see.
    expect(h.slack.botMessagesIn(CHANNEL).some((m) => /forgot/.test(m.text))).toBe(false);
  });

  it("@bot reset inside a thread forgets that thread and says so there", async () => {
    const root = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> one`, ts: root }));
    await waitForAnswer(h, CHANNEL, root, "I have read 1 messages.");
    const other = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> two`, ts: other }));
    await waitForAnswer(h, CHANNEL, other, "I have read 1 messages.");

    const requests = h.testBot.fake.requests.length;
    const reset = {
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${bot}> reset`,
      ts: h.slack.nextTs(),
      thread_ts: root,
    };
    await h.deliver(appMentionEvent(reset));
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, root).length === 2,
      10_000,
      "the reset confirmation",
    );
    expect(h.slack.botMessagesIn(CHANNEL, root)[1]!.text).toMatch(/forgot this thread/);
    expect(h.testBot.fake.requests.length).toBe(requests);
    expect(await h.testBot.bot.exists(`slack:${team}:${CHANNEL}:${root}`)).toBe(false);
    expect(await h.testBot.bot.exists(`slack:${team}:${CHANNEL}:${other}`)).toBe(true);

    // The thread goes on from scratch, still without needing a mention.
    await h.deliver(
      messageEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: "again",
        ts: h.slack.nextTs(),
        thread_ts: root,
      }),
    );
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, root).at(-1)?.text === "I have read 1 messages.",
      10_000,
      "the answer after the reset",
    );
  });
});
