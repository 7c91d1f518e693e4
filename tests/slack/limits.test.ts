import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_SECTION_LIMIT } from "../../adapters/slack/blocks.js";
import { SLACK_TEXT_LIMIT } from "../../adapters/slack/reply.js";
import type { EditBudgetSource } from "../../src/stream/index.js";
import { EditBudgets } from "../../src/stream/index.js";
import { appMentionEvent } from "../fakes/slackEvents.js";
import {
  ALICE,
  CHANNEL,
  CURSOR,
  GROUP_PING,
  type Harness,
  slowly,
  startHarness,
  waitForAnswer,
} from "./harness.js";

describe("Slack: what reaches Slack", () => {
  let h: Harness;
  let bot: string;
  beforeAll(async () => {
    // Long answers here post many messages into one channel; a roomy post budget keeps each
    // test's first post from waiting on the previous test's (the post budget has its own test).
    h = await startHarness({ postBudgets: new EditBudgets({ edits: 600, perMs: 3_000 }) });
    bot = h.slack.botUserId;
  });
  afterAll(() => h.close());

  const ask = async (text: string) => {
    const ts = h.slack.nextTs();
    await h.deliver(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${bot}> ${text}`, ts }));
    return ts;
  };
  const sentTexts = () =>
    [...h.slack.callsTo("chat.postMessage"), ...h.slack.callsTo("chat.update")].map((c) =>
      String(c.params.text),
    );

  it("never pings a group, whatever the model writes", async () => {
    h.testBot.fake.respond(() =>
      slowly(
        "Attention <!channel>! Also <!here>, <!everyone>, <!subteam^S0DEVS|@devs> and @here, @channel.",
        5,
        20,
      ),
    );
    const ts = await ask("ping everyone please");
    await h.slack.waitFor(
      () =>
        h.slack.botMessagesIn(CHANNEL, ts)[0]?.text.startsWith("Attention") === true &&
        !h.slack.botMessagesIn(CHANNEL, ts)[0]!.text.endsWith(CURSOR),
      10_000,
      "the final answer",
    );
    expect(sentTexts().length).toBeGreaterThan(1);
    for (const text of sentTexts()) expect(text).not.toMatch(GROUP_PING);
    // People still read what the model meant.
    expect(h.slack.botMessagesIn(CHANNEL, ts)[0]!.text.replace(/\u200B/g, "")).toBe(
      "Attention @channel! Also @here, @everyone, @devs and @here, @channel.",
    );
  });

  it("continues a 6,000-character answer in further messages, each within a section block, losing nothing", async () => {
    const paragraphs = Array.from(
      { length: 60 },
      (_, i) => `Paragraph ${i + 1} ${"lorem ipsum ".repeat(7)}end.`,
    );
    const answer = paragraphs.join("\n\n");
    expect(answer.length).toBeGreaterThan(5_900);
    h.testBot.fake.respond(() => ({ text: answer }));
    const ts = await ask("write a lot");
    await h.slack.waitFor(
      () => {
        const texts = h.slack.botMessagesIn(CHANNEL, ts).map((m) => m.text);
        return (
          texts.length === 3 && texts.every((t) => !t.endsWith(CURSOR)) && texts[2]!.includes("Paragraph 60 ")
        );
      },
      15_000,
      "three final messages",
    );
    const texts = h.slack.botMessagesIn(CHANNEL, ts).map((m) => m.text);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(SLACK_SECTION_LIMIT);
    const shown = texts.join("\n\n").replace(/\s+/g, " ");
    expect(shown).toBe(answer.replace(/\s+/g, " "));
    expect(
      h.slack.calls.some((c) => c.method.startsWith("chat.") && c.params.text?.length > SLACK_TEXT_LIMIT),
    ).toBe(false);
  });

  it("loses nothing when Slack's formatting makes a message longer than Slack accepts", async () => {
    // `&` goes out as `&amp;`: 3,000 of them in a 3,500-character Markdown part are 15,000 in mrkdwn.
    const items = Array.from({ length: 500 }, (_, i) => `- R&D item ${i} & more`);
    const answer = `Lists and ampersands:\n\n${items.join("\n")}`;
    h.testBot.fake.respond(() => ({ text: answer }));
    const rendered = () => h.logs.filter((l) => l.msg === "reply rendered").length;
    const renderedBefore = rendered();
    const ts = await ask("a dense list");
    const shownText = () =>
      h.slack
        .botMessagesIn(CHANNEL, ts)
        .map((m) => m.text)
        .join("\n");
    await h.slack.waitFor(
      () => !shownText().includes(CURSOR) && shownText().includes("R&amp;D item 499 &amp; more"),
      15_000,
      "the whole list",
    );
    // Done only once the renderer is (no request of this answer may spill into the next test).
    await h.slack.waitFor(() => rendered() > renderedBefore, 15_000, "the render to end");
    for (let i = 0; i < 500; i++) expect(shownText()).toContain(`R&amp;D item ${i} &amp; more`);
    expect(
      h.slack.calls.some((c) => c.method.startsWith("chat.") && c.params.text?.length > SLACK_TEXT_LIMIT),
    ).toBe(false);
  });

  it("honours a 429 on chat.update and still shows the whole answer", async () => {
    const answer = "Rate limits are no reason to lose a single word of this answer.";
    h.testBot.fake.respond(() => slowly(answer, 6, 120));
    const logsBefore = h.logs.length;
    const callsBefore = h.slack.calls.length;
    const ts = await ask("survive a rate limit");
    // Refuse the first edit, once the answer is on screen.
    await h.slack.waitFor(() => h.slack.botMessagesIn(CHANNEL, ts).length > 0, 10_000, "the first post");
    h.slack.fail("chat.update", { retryAfterS: 1 });
    await waitForAnswer(h, CHANNEL, ts, answer);
    // This answer's own updates: the first was refused (429), later ones went through.
    const updates = h.slack.calls.slice(callsBefore).filter((c) => c.method === "chat.update");
    expect(updates.length).toBeGreaterThan(1);
    const logged = h.logs
      .slice(logsBefore)
      .find((l) => l.method === "chat.update" && l.slackCode === "ratelimited");
    expect(logged?.retryAfterMs).toBe(1_000);
  });

  it("logs a failing Slack call with its method and error code, and tells the user where it can", async () => {
    h.testBot.fake.respond(() => ({ text: "an answer" }));
    h.slack.fail("chat.postMessage", { error: "not_in_channel" });
    const ts = await ask("are you there?");
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, ts).some((m) => m.text.includes("not_in_channel")),
      10_000,
      "a warning in the thread",
    );
    expect(h.logs.some((l) => l.method === "chat.postMessage" && l.slackCode === "not_in_channel")).toBe(
      true,
    );

    // Without permission to read a thread, the bot says so and answers anyway.
    h.slack.fail("conversations.replies", { error: "missing_scope" });
    const parent = h.slack.addMessage({ channel: CHANNEL, user: ALICE.id, text: "an older discussion" });
    const mid = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: `<@${bot}> what was said?`,
        ts: mid,
        thread_ts: parent.ts,
      }),
    );
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, parent.ts).at(-1)?.text === "an answer",
      10_000,
      "the answer without context",
    );
    expect(h.slack.botMessagesIn(CHANNEL, parent.ts)[0]!.text).toMatch(/could not read .*missing_scope/);
    expect(h.logs.some((l) => l.method === "conversations.replies" && l.slackCode === "missing_scope")).toBe(
      true,
    );
  });
});

describe("Slack: the workspace's edit budget", () => {
  let h: Harness;
  const granted: string[] = [];
  beforeAll(async () => {
    const real = new EditBudgets({ edits: 600, perMs: 60_000 });
    // Records every grant, so the test sees which budget each request drew on.
    const budgets: EditBudgetSource = {
      get: (scope) => {
        const budget = real.get(scope);
        return {
          acquire: async (signal, priority) => {
            await budget.acquire(signal, priority);
            granted.push(scope);
          },
          pause: (ms) => budget.pause(ms),
        };
      },
    };
    h = await startHarness({ budgets });
  });
  afterAll(() => h.close());

  it("draws every edit of concurrent answers from one budget per workspace; first posts do not wait on it", async () => {
    h.testBot.fake.respond((body) =>
      slowly(`Answer to ${body.messages.at(-1).content}, streamed in parts.`, 5, 30),
    );
    const threads = [h.slack.nextTs(), h.slack.nextTs(), h.slack.nextTs()];
    await Promise.all(
      threads.map((ts, i) =>
        h.deliver(
          appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> q${i}`, ts }),
        ),
      ),
    );
    for (const [i, ts] of threads.entries())
      await waitForAnswer(h, CHANNEL, ts, `Answer to q${i}, streamed in parts.`);
    // chat.update is limited per workspace; chat.postMessage per channel (its own budget).
    const updates = h.slack.calls.filter((c) => c.method === "chat.update");
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(granted.length).toBeGreaterThanOrEqual(updates.length);
    expect(new Set(granted)).toEqual(new Set([h.slack.teamId]));
  });
});
