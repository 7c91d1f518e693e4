import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assistantThreadEvent, messageEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, DM, type Harness, startHarness } from "./harness.js";

const PROMPTS = ["Summarize a text", "Explain a concept simply"];
const THINKING = "is thinking…";

describe("Slack: the assistant pane", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ suggestedPrompts: PROMPTS });
  });
  afterAll(() => h.close());

  /** Alice opens the pane (or moves to another channel with it open): Slack's event, posted signed. */
  const open = async (type?: "assistant_thread_context_changed") => {
    // The root of an assistant thread is Slack's own, of subtype assistant_app_thread.
    const thread = h.slack.addMessage({
      channel: DM,
      user: ALICE.id,
      text: "Chats from today",
      subtype: "assistant_app_thread",
    });
    const res = await h.deliver(
      assistantThreadEvent(h.slack, {
        user: ALICE.id,
        channel: DM,
        threadTs: thread.ts,
        contextChannel: CHANNEL,
        ...(type ? { type } : {}),
      }),
    );
    expect(res.status).toBe(200);
    return thread.ts;
  };
  const ask = (threadTs: string, text: string) =>
    h.deliver(messageEvent({ channel: DM, user: ALICE.id, text, ts: h.slack.nextTs(), thread_ts: threadTs }));
  const answerIn = (threadTs: string) => h.slack.botMessagesIn(DM, threadTs).find((m) => m.stream);

  it("offers the suggested prompts when the pane opens", async () => {
    const thread = await open();
    await h.slack.waitFor(() => h.slack.thread(DM, thread).prompts !== undefined, 10_000, "the prompts");
    expect(h.slack.thread(DM, thread).prompts).toEqual(PROMPTS.map((p) => ({ title: p, message: p })));
  });

  it("shows 'is thinking…' from the question to the first token, titles the thread once, and keeps it its own conversation", async () => {
    const thread = await open();
    h.testBot.fake.respond(() => ({ text: "Here is a first answer.", firstDelayMs: 600 }));
    await ask(thread, "How do tides work?\nPlease keep it short.");
    await h.slack.waitFor(
      () => h.slack.thread(DM, thread).status === THINKING,
      10_000,
      "the thinking status",
    );
    // The model has not answered yet: the status is the only sign of work, no placeholder message.
    expect(h.slack.botMessagesIn(DM, thread)).toHaveLength(0);
    await h.slack.waitFor(() => answerIn(thread)?.stream?.open === false, 10_000, "the answer");
    expect(answerIn(thread)!.text).toBe("Here is a first answer.");
    expect(h.slack.thread(DM, thread).status).toBe("");
    expect(h.slack.thread(DM, thread).title).toBe("How do tides work?");

    h.testBot.fake.respond((body) => ({ text: `Second answer after ${body.messages.length - 1} messages.` }));
    await ask(thread, "And the moon?");
    // Done once its stream is stopped: the answer is stored before that.
    await h.slack.waitFor(
      () =>
        h.slack
          .botMessagesIn(DM, thread)
          .some((m) => m.text === "Second answer after 3 messages." && m.stream?.open === false),
      10_000,
      "the second answer, with the thread's history",
    );
    expect(
      h.slack.callsTo("assistant.threads.setTitle").filter((c) => c.params.thread_ts === thread),
    ).toHaveLength(1);
    expect(await h.testBot.bot.history(`slack:${h.slack.teamId}:${DM}:${thread}`)).toHaveLength(4);
  });

  it("clears the status when the answer fails before its first token", async () => {
    const thread = await open();
    h.testBot.fake.respond(() => ({ status: 500 }));
    await ask(thread, "Will this work?");
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(DM, thread).some((m) => /failed to answer/.test(m.text)),
      10_000,
      "the warning",
    );
    const { statuses, status } = h.slack.thread(DM, thread);
    expect(statuses[0]).toBe(THINKING);
    expect(status).toBe("");
  });

  it("a thread Slack reports through assistant_thread_context_changed counts as the pane's too", async () => {
    const thread = await open("assistant_thread_context_changed");
    h.testBot.fake.respond(() => ({ text: "Answered in a thread opened before." }));
    await ask(thread, "Are you there?");
    await h.slack.waitFor(() => answerIn(thread)?.stream?.open === false, 10_000, "the answer");
    expect(h.slack.thread(DM, thread).statuses[0]).toBe(THINKING);
    expect(h.slack.thread(DM, thread).title).toBe("Are you there?");
  });
});
