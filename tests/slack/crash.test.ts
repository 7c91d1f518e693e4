import { afterEach, describe, expect, it } from "vitest";
import { CrashRecovery } from "../../src/replicas/index.js";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, CURSOR, DM, type Harness, startHarness } from "./harness.js";

describe("a bot process that dies mid-answer", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("leaves no cursor: a live process finishes the message with what was shown and a note", async () => {
    // The process streaming the answer remembers its messages in the shared store...
    h = await startHarness({ recovery: { heartbeatMs: 50 } });
    const dying = h.recovery!;
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
    clearInterval((dying as unknown as { beatTimer: NodeJS.Timeout }).beatTimer);

    const survivor = new CrashRecovery(h.testBot.store.state, h.testBot.store.coordination.atomic, {
      heartbeatMs: 50,
      sweepEveryMs: 0,
    });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.watch({ slack: h.handle.finisher })).toBe(1);
    const text = h.slack.botMessagesIn(CHANNEL, ts)[0]!.text;
    expect(text).not.toContain(CURSOR);
    expect(text).toMatch(/^Half of an answer\n\n⚠️ The bot restarted before finishing this answer/);
    await survivor.stop();
  });

  it("also finishes a native stream it left: stopped, with what it showed and a note, its Stop control gone", async () => {
    h = await startHarness({ recovery: { heartbeatMs: 50 } });
    const dying = h.recovery!;
    h.testBot.fake.respond(() => ({
      chunks: ["Streamed ", "halfway"],
      chunkDelayMs: 30,
      stallAfterChunks: 2,
    }));
    const parent = h.slack.addMessage({ channel: DM, user: ALICE.id, text: "a chat" });
    await h.deliver(
      messageEvent({ channel: DM, user: ALICE.id, text: "go", ts: h.slack.nextTs(), thread_ts: parent.ts }),
    );
    const stream = () => h!.slack.botMessagesIn(DM, parent.ts).find((m) => m.stream);
    const control = () => h!.slack.botMessagesIn(DM, parent.ts).find((m) => !m.stream);
    await h.slack.waitFor(
      () => stream()?.text === "Streamed halfway" && control() !== undefined,
      10_000,
      "the stream and its Stop control",
    );
    // Give the append's record time to land in the store, then die.
    await new Promise((r) => setTimeout(r, 100));
    clearInterval((dying as unknown as { beatTimer: NodeJS.Timeout }).beatTimer);

    const survivor = new CrashRecovery(h.testBot.store.state, h.testBot.store.coordination.atomic, {
      heartbeatMs: 50,
      sweepEveryMs: 0,
    });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.watch({ slack: h.handle.finisher })).toBe(2);
    expect(stream()!.stream!.open).toBe(false);
    expect(stream()!.text).toMatch(/^Streamed halfway\n\n⚠️ The bot restarted before finishing this answer/);
    expect(control()).toBeUndefined();
    await survivor.stop();
  });
});
