import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import {
  ALICE,
  BOB,
  CHANNEL,
  CURSOR,
  type Harness,
  keep,
  slowly,
  startHarness,
  waitForAnswer,
} from "./harness.js";

/** The messages the model received in its last request. */
const modelMessages = (h: Harness): Array<{ role: string; content: string }> =>
  h.testBot.fake.requests.at(-1)?.body?.messages ?? [];

describe("Slack: mentions and threads", () => {
  let h: Harness;
  let bot: string;
  beforeAll(async () => {
    h = await startHarness();
    bot = h.slack.botUserId;
  });
  afterAll(() => h.close());

  it("answers a mention in a thread under it, streaming with a cursor, ending with the exact text", async () => {
    const answer = "The answer is forty-two, as the book says, and it has not changed since.";
    h.testBot.fake.respond(() => slowly(answer, 8, 60));
    const ts = h.slack.nextTs();
    const res = await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> what is the answer?`, ts }),
    );
    expect(res.status).toBe(200);
    await waitForAnswer(h, CHANNEL, ts, answer);

    const posts = h.slack.callsTo("chat.postMessage").filter((c) => c.params.thread_ts === ts);
    expect(posts).toHaveLength(1);
    // A visible sign of work before the first token.
    expect(posts[0]!.params.text).toBe(CURSOR);
    const edits = h.slack
      .callsTo("chat.update")
      .filter((c) => c.params.ts === h.slack.botMessagesIn(CHANNEL, ts)[0]!.ts);
    const intermediate = edits.slice(0, -1).map((c) => c.params.text as string);
    expect(intermediate.length).toBeGreaterThan(0);
    for (const text of intermediate) expect(text.endsWith(CURSOR)).toBe(true);
    expect(
      intermediate.some((t) => t.length > CURSOR.length && answer.startsWith(t.slice(0, -CURSOR.length))),
    ).toBe(true);
    expect(edits.at(-1)!.params.text).toBe(answer);

    // The mention is not part of what the model reads; the thread is its own conversation.
    expect(modelMessages(h).at(-1)).toEqual({ role: "user", content: "what is the answer?" });
    const history = await h.testBot.bot.history(`slack:${h.slack.teamId}:${CHANNEL}:${ts}`);
    expect(history.map((m) => [m.role, m.text])).toEqual([
      ["user", "what is the answer?"],
      ["assistant", answer],
    ]);
  });

  it("answers follow-ups in a thread it joined without a new mention, with the thread's history", async () => {
    h.testBot.fake.respond((body) => ({ text: `Reply #${body.messages.length}` }));
    const root = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> first`, ts: root }));
    await waitForAnswer(h, CHANNEL, root, "Reply #2");

    const followUp = h.slack.nextTs();
    await h.deliver(
      messageEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: "second, no mention",
        ts: followUp,
        thread_ts: root,
      }),
    );
    await waitForAnswer(h, CHANNEL, root, "Reply #2\nReply #4");
    expect(modelMessages(h).slice(1)).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "Reply #2" },
      { role: "user", content: "second, no mention" },
    ]);
  });

  it("ignores messages in threads it never joined unless they mention it", async () => {
    const before = h.testBot.fake.requests.length;
    const root = h.slack.nextTs();
    await h.deliver(
      messageEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: "just chatting",
        ts: h.slack.nextTs(),
        thread_ts: root,
      }),
    );
    await h.deliver(messageEvent({ channel: CHANNEL, user: ALICE.id, text: "top level chat", ts: root }));
    // A later mention is answered; by then the earlier messages were long decided.
    h.testBot.fake.respond(() => ({ text: "sentinel" }));
    const ts = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> ping`, ts }));
    await waitForAnswer(h, CHANNEL, ts, "sentinel");
    expect(h.testBot.fake.requests.length).toBe(before + 1);
    expect(h.slack.botMessagesIn(CHANNEL, root)).toHaveLength(0);
  });

  it("reads the earlier messages of a thread when first mentioned in the middle of it", async () => {
    h.testBot.fake.respond(() => ({ text: "Summary: ship on Monday." }));
    const parent = h.slack.addMessage({ channel: CHANNEL, user: BOB.id, text: "Should we ship on Friday?" });
    h.slack.addMessage({
      channel: CHANNEL,
      user: ALICE.id,
      text: "Monday is safer, <@U0BOB>",
      thread_ts: parent.ts,
    });
    const ts = h.slack.nextTs();
    h.slack.addMessage({
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${bot}> summarize this`,
      ts,
      thread_ts: parent.ts,
    });
    await h.deliver(
      appMentionEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: `<@${bot}> summarize this`,
        ts,
        thread_ts: parent.ts,
      }),
    );
    await waitForAnswer(h, CHANNEL, parent.ts, "Summary: ship on Monday.");
    expect(h.slack.callsTo("conversations.replies").at(-1)!.params).toMatchObject({
      channel: CHANNEL,
      ts: parent.ts,
    });
    // Two people spoke, so each line carries its author; Bob's mention became his name.
    expect(modelMessages(h).slice(1)).toEqual([
      { role: "user", content: "[Bob] Should we ship on Friday?" },
      { role: "user", content: "[Alice] Monday is safer, @Bob" },
      { role: "user", content: "[Alice] summarize this" },
    ]);
  });

  it("turns other user mentions into names and answers an empty mention with a hint", async () => {
    h.testBot.fake.respond(() => ({ text: "Bob is on holiday." }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> where is <@${BOB.id}>?`, ts }),
    );
    await waitForAnswer(h, CHANNEL, ts, "Bob is on holiday.");
    expect(modelMessages(h).at(-1)).toEqual({ role: "user", content: "where is @Bob?" });

    const requests = h.testBot.fake.requests.length;
    const empty = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}>`, ts: empty }));
    await h.slack.waitFor(() => h.slack.botMessagesIn(CHANNEL, empty).length === 1, 10_000, "the hint");
    expect(h.slack.botMessagesIn(CHANNEL, empty)[0]!.text).toMatch(/mention me with a question/i);
    expect(h.testBot.fake.requests.length).toBe(requests);
  });

  it("answers a mention once although Slack sends message + app_mention and retries", async () => {
    h.testBot.fake.respond(() => ({ text: "Only once." }));
    const requests = h.testBot.fake.requests.length;
    const ts = h.slack.nextTs();
    const m = { channel: CHANNEL, user: ALICE.id, text: `<@${bot}> say it once`, ts };
    keep(h.slack, messageEvent(m));
    const mention = h.envelope(appMentionEvent(m));
    const message = h.envelope(messageEvent(m));
    const answers = await Promise.all([h.post.event(mention), h.post.event(message)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    // Slack redelivers both, as if it never saw our acks.
    await h.post.event(mention, { retryNum: 1 });
    await h.post.event(message, { retryNum: 1 });
    await waitForAnswer(h, CHANNEL, ts, "Only once.");
    const sentinel = h.slack.nextTs();
    await h.deliver(appMentionEvent({ ...m, text: `<@${bot}> next`, ts: sentinel }));
    await waitForAnswer(h, CHANNEL, sentinel, "Only once.");
    expect(h.slack.botMessagesIn(CHANNEL, ts)).toHaveLength(1);
    expect(h.testBot.fake.requests.length).toBe(requests + 2);
  });

  it("ignores bot messages, its own messages and edits", async () => {
    h.testBot.fake.respond(() => ({ text: "answered" }));
    const requests = h.testBot.fake.requests.length;
    const root = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> hi`, ts: root }));
    await waitForAnswer(h, CHANNEL, root, "answered");

    const inThread = { channel: CHANNEL, thread_ts: root };
    await h.deliver(
      messageEvent(
        { ...inThread, user: "U0OTHERBOT", text: `<@${bot}> bots talking`, ts: h.slack.nextTs() },
        { bot_id: "B0OTHER" },
      ),
    );
    await h.deliver(
      messageEvent(
        { ...inThread, user: bot, text: "my own words", ts: h.slack.nextTs() },
        { bot_id: h.slack.botId },
      ),
    );
    await h.deliver({
      type: "message",
      subtype: "message_changed",
      channel: CHANNEL,
      channel_type: "channel",
      ts: h.slack.nextTs(),
      hidden: true,
      message: {
        type: "message",
        user: ALICE.id,
        text: `<@${bot}> edited`,
        ts: root,
        edited: { user: ALICE.id, ts: "1" },
      },
      previous_message: { type: "message", user: ALICE.id, text: `<@${bot}> hi`, ts: root },
    });
    await h.deliver({
      type: "message",
      subtype: "message_deleted",
      channel: CHANNEL,
      ts: h.slack.nextTs(),
      deleted_ts: root,
    });
    const sentinel = h.slack.nextTs();
    await h.deliver(messageEvent({ ...inThread, user: ALICE.id, text: "a person again", ts: sentinel }));
    await waitForAnswer(h, CHANNEL, root, "answered\nanswered");
    expect(h.testBot.fake.requests.length).toBe(requests + 2);
  });
});

describe("Slack: SLACK_REQUIRE_MENTION", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ requireMention: true });
  });
  afterAll(() => h.close());

  it("answers follow-ups only when they mention the bot", async () => {
    const bot = h.slack.botUserId;
    h.testBot.fake.respond((body) => ({ text: `turn ${body.messages.length}` }));
    const root = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> one`, ts: root }));
    await waitForAnswer(h, CHANNEL, root, "turn 2");
    await h.deliver(
      messageEvent({ channel: CHANNEL, user: ALICE.id, text: "two", ts: h.slack.nextTs(), thread_ts: root }),
    );
    const three = {
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${bot}> three`,
      ts: h.slack.nextTs(),
      thread_ts: root,
    };
    await h.deliver(messageEvent(three));
    await h.deliver(appMentionEvent(three));
    await waitForAnswer(h, CHANNEL, root, "turn 2\nturn 4");
    expect(h.testBot.fake.requests).toHaveLength(2);
  });
});
