import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EditBudgets } from "../../src/stream/index.js";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, CURSOR, type Harness, startHarness } from "./harness.js";

describe("Slack posts and edits are limited apart", () => {
  let h: Harness;
  beforeAll(async () => {
    // chat.update: 2 per 20 s for the whole workspace, used up by the first answer below (its
    // first text and its final edit: intermediate edits are paced over the window).
    h = await startHarness({ budgets: new EditBudgets({ edits: 2, perMs: 20_000 }) });
  });
  afterAll(() => h.close());

  it("a new question shows its reply at once, even when the workspace's edit budget is used up", async () => {
    h.testBot.fake.respond((body) => ({
      chunks: [`Answer to ${body.messages.at(-1).content}: `, "one, ", "two, ", "three, ", "four."],
      chunkDelayMs: 150,
    }));
    const first = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> q1`, ts: first }),
    );
    await h.slack.waitFor(
      () => h.slack.callsTo("chat.update").length >= 2,
      10_000,
      "the first answer to use up the edit budget",
    );
    const second = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> q2`, ts: second }),
    );
    // The edit window stays closed for about 20 s; the reply to q2 is posted long before.
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, second).length > 0,
      5_000,
      "the second answer's first post",
    );
    const [reply] = h.slack.botMessagesIn(CHANNEL, second);
    expect(reply!.text.includes(CURSOR) || reply!.text.startsWith("Answer to q2")).toBe(true);
  });
});
