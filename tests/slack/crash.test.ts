import { afterEach, describe, expect, it } from "vitest";
import { InflightMessages } from "../../src/memory/inflight.js";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, CURSOR, type Harness, startHarness } from "./harness.js";

describe("a bot process that dies mid-answer", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("leaves no cursor: a live process finishes the message with what was shown and a note", async () => {
    // The process streaming the answer remembers its messages in the shared store...
    h = await startHarness({ inflight: { heartbeatMs: 50 } });
    const dying = h.inflight!;
    h.testBot.fake.respond(() => ({
      chunks: ["Half of ", "an answer", " never finished"],
      stallAfterChunks: 2,
    }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> go`, ts }),
    );
    await h.slack.waitFor(
      () => h!.slack.botMessagesIn(CHANNEL, ts)[0]?.text === `Half of an answer${CURSOR}`,
      10_000,
      "the partial answer",
    );
    // ...and then dies: its heartbeat stops, nothing else runs.
    clearInterval((dying as unknown as { timer: NodeJS.Timeout }).timer);

    const survivor = new InflightMessages(h.testBot.store.state, h.testBot.store.atomic, {
      cursor: CURSOR,
      heartbeatMs: 50,
    });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.sweep({ slack: h.handle.finishMessage })).toBe(1);
    const text = h.slack.botMessagesIn(CHANNEL, ts)[0]!.text;
    expect(text).not.toContain(CURSOR);
    expect(text).toMatch(/^Half of an answer\n\n⚠️ The bot restarted before finishing this answer/);
    await survivor.stop();
  });
});
