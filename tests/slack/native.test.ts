import { afterEach, describe, expect, it } from "vitest";
import { SLACK_SECTION_LIMIT } from "../../adapters/slack/blocks.js";
import { EditBudgets } from "../../src/stream/index.js";
import type { FakeSlackMessage } from "../fakes/slack.js";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import {
  ALICE,
  BOB,
  CHANNEL,
  CURSOR,
  DM,
  GROUP_PING,
  type Harness,
  type HarnessOptions,
  slowly,
  startHarness,
  waitForAnswer,
} from "./harness.js";

/** An answer in plain words and lines, so its Markdown and Slack's mrkdwn read the same. */
const ANSWER = [
  "Native streaming shows each token as it arrives.",
  "Only the person asking sees it live.",
  "Everyone else sees the first chunk until it stops.",
  "The joined text is exactly what the model wrote.",
].join("\n");

describe("Slack: native streaming", () => {
  let h: Harness;
  afterEach(async () => h?.close());

  const start = async (options: HarnessOptions = {}) => {
    h = await startHarness(options);
    return h;
  };

  /** Alice writes in a thread of her DM with the bot (the assistant pane's chats are such threads). */
  const askInDmThread = async (text = "tell me about streaming") => {
    const parent = h.slack.addMessage({ channel: DM, user: ALICE.id, text: "a chat" });
    await h.deliver(
      messageEvent({ channel: DM, user: ALICE.id, text, ts: h.slack.nextTs(), thread_ts: parent.ts }),
    );
    return parent.ts;
  };
  const streamsIn = (channel: string, threadTs: string) =>
    h.slack.botMessagesIn(channel, threadTs).filter((m) => m.stream);
  const waitForStreams = (channel: string, threadTs: string, text: string) =>
    h.slack.waitFor(
      () => {
        const streams = streamsIn(channel, threadTs);
        return streams.length > 0 && streams.every((m) => !m.stream?.open) && joined(streams) === text;
      },
      15_000,
      `streams reading ${JSON.stringify(text.slice(0, 40))} (now ${JSON.stringify(streamsIn(channel, threadTs).map((m) => m.text))})`,
    );

  it("streams a DM thread answer natively: it grows live, ends exact, with no chat.update", async () => {
    await start();
    h.testBot.fake.respond(() => slowly(ANSWER, 12, 60));
    const thread = await askInDmThread();
    // While it is written: a stream that only grows, and a Stop button under it.
    await h.slack.waitFor(
      () => (streamsIn(DM, thread)[0]?.stream?.chunks.length ?? 0) >= 2,
      10_000,
      "a stream with appends",
    );
    const live = streamsIn(DM, thread)[0]!;
    expect(live.stream?.open).toBe(true);
    expect(ANSWER.startsWith(live.text)).toBe(true);
    expect(live.text.length).toBeLessThan(ANSWER.length);
    expect(live.text).not.toContain(CURSOR);
    const control = h.slack.botMessagesIn(DM, thread).find((m) => !m.stream);
    expect(control?.blocks?.[0]?.elements?.[0]?.action_id).toBe("chatbot_stop");

    await waitForStreams(DM, thread, ANSWER);
    const [message] = streamsIn(DM, thread);
    expect(message!.stream!.chunks.join("")).toBe(ANSWER);
    expect(h.slack.callsTo("chat.startStream")).toHaveLength(1);
    expect(h.slack.callsTo("chat.startStream")[0]!.params).toMatchObject({ channel: DM, thread_ts: thread });
    expect(h.slack.callsTo("chat.appendStream").length).toBeGreaterThan(0);
    expect(h.slack.callsTo("chat.update")).toHaveLength(0);
    // Finished: the feedback buttons under it, and the Stop control gone.
    expect(message!.blocks?.[0]?.type).toBe("context_actions");
    await h.slack.waitFor(() => h.slack.botMessagesIn(DM, thread).length === 1, 5_000, "the control removed");
    expect(h.slack.deleted.map((m) => m.ts)).toEqual([control!.ts]);
    const history = await h.testBot.bot.history(`slack:${h.slack.teamId}:${DM}:${thread}`);
    expect(history.at(-1)).toMatchObject({ role: "assistant", text: ANSWER });
    expect(history.at(-1)?.incomplete).toBeUndefined();
  });

  it("keeps progressive edits in a shared channel thread, where everyone reads", async () => {
    await start();
    h.testBot.fake.respond(() => slowly(ANSWER, 6, 40));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> explain`, ts }),
    );
    await waitForAnswer(h, CHANNEL, ts, ANSWER);
    expect(h.slack.callsTo("chat.startStream")).toHaveLength(0);
    expect(h.slack.callsTo("chat.update").length).toBeGreaterThan(1);
  });

  it("falls back to edits, losing nothing, when Slack refuses chat.startStream", async () => {
    await start();
    for (const error of ["unknown_method", "missing_scope"]) {
      h.testBot.fake.respond(() => slowly(`${ANSWER} (${error})`, 6, 30));
      h.slack.fail("chat.startStream", { error });
      const thread = await askInDmThread();
      await waitForAnswer(h, DM, thread, `${ANSWER} (${error})`);
      expect(streamsIn(DM, thread)).toHaveLength(0);
      const shown = h.slack.botMessagesIn(DM, thread)[0]!;
      expect(shown.blocks?.at(-1)?.type).toBe("context_actions");
    }
    expect(
      h.logs.some((l) => l.msg === "native stream handed over to edits" && l.reason === "missing_scope"),
    ).toBe(true);
  });

  it("falls back to edits when chat.startStream's budget is spent", async () => {
    // One start per minute: the second answer must not wait a minute for it.
    await start({ streamBudgets: { start: new EditBudgets({ edits: 1, perMs: 60_000 }) } });
    h.testBot.fake.respond(() => ({ text: "first, natively" }));
    const first = await askInDmThread();
    await waitForStreams(DM, first, "first, natively");
    h.testBot.fake.respond(() => ({ text: "second, by edits" }));
    const second = await askInDmThread();
    await waitForAnswer(h, DM, second, "second, by edits");
    expect(streamsIn(DM, second)).toHaveLength(0);
    expect(h.slack.callsTo("chat.startStream")).toHaveLength(1);
  });

  it("when Slack ends a stream early, continues by edits where the visible text ended", async () => {
    // Slack's lifetime far shorter than the rotation: the stream dies mid-answer.
    await start({ streamLifetimeMs: 400, streamTiming: { rotateAfterMs: 60_000 } });
    h.testBot.fake.respond(() => slowly(ANSWER, 20, 80));
    const thread = await askInDmThread();
    await h.slack.waitFor(
      () => {
        const all = h.slack.botMessagesIn(DM, thread);
        const edited = all.find((m) => !m.stream && m.blocks?.[0]?.type === "section");
        return edited?.blocks?.at(-1)?.type === "context_actions";
      },
      15_000,
      "the rest by edits",
    );
    const streams = streamsIn(DM, thread);
    expect(streams).toHaveLength(1);
    const rest = h.slack.botMessagesIn(DM, thread).filter((m) => !m.stream);
    expect(rest).toHaveLength(1);
    // What Slack kept of the stream, then the rest: the whole answer, nothing twice.
    expect(`${streams[0]!.text}${rest[0]!.text}`.replace(/\s+/g, " ")).toBe(ANSWER.replace(/\s+/g, " "));
    expect(streams[0]!.text.length).toBeGreaterThan(0);
    expect(streams[0]!.text.length).toBeLessThan(ANSWER.length);
    expect(
      h.slack.calls.some(
        (c) => c.method === "chat.appendStream" && c.response?.error === "message_not_in_streaming_state",
      ),
    ).toBe(true);
  });

  it("rotates a long answer into a new stream before Slack would end it, exactly", async () => {
    await start({ streamLifetimeMs: 60_000, streamTiming: { rotateAfterMs: 400 } });
    // A line at a time, so the next line end comes soon after each rotation is due.
    const lines = ANSWER.split("\n").map((line, i, all) => (i < all.length - 1 ? `${line}\n` : line));
    h.testBot.fake.respond(() => ({
      chunks: lines.flatMap((l) => [l.slice(0, 20), l.slice(20)]),
      chunkDelayMs: 150,
    }));
    const thread = await askInDmThread();
    await waitForStreams(DM, thread, ANSWER);
    const streams = streamsIn(DM, thread);
    expect(streams.length).toBeGreaterThan(1);
    // Each rotation cuts at a line end; only the last message carries the feedback buttons.
    for (const m of streams.slice(0, -1)) {
      expect(m.text.endsWith("\n")).toBe(true);
      expect(m.blocks).toBeUndefined();
    }
    expect(streams.at(-1)!.blocks?.[0]?.type).toBe("context_actions");
    expect(h.slack.calls.some((c) => c.response?.error === "message_not_in_streaming_state")).toBe(false);
  });

  it("continues an answer longer than one message in further streams, each within the limit, exactly", async () => {
    await start();
    const long = Array.from(
      { length: 70 },
      (_, i) => `Line ${i + 1}: ${"words and more words ".repeat(4)}`,
    ).join("\n");
    expect(long.length).toBeGreaterThan(6_000);
    h.testBot.fake.respond(() => ({ chunks: long.match(/[\s\S]{1,120}/g) ?? [], chunkDelayMs: 5 }));
    const thread = await askInDmThread();
    await waitForStreams(DM, thread, long);
    const streams = streamsIn(DM, thread);
    expect(streams.length).toBeGreaterThanOrEqual(3);
    for (const m of streams) expect(m.text.length).toBeLessThanOrEqual(SLACK_SECTION_LIMIT);
    // Cut at line ends; the feedback buttons under the last one only.
    for (const m of streams.slice(0, -1)) {
      expect(m.text.endsWith("\n")).toBe(true);
      expect(m.blocks).toBeUndefined();
    }
    expect(streams.at(-1)!.blocks?.[0]?.type).toBe("context_actions");
  });

  it("waits out a 429 on chat.appendStream and still shows the whole answer", async () => {
    await start();
    h.testBot.fake.respond(() => slowly(ANSWER, 10, 100));
    const thread = await askInDmThread();
    await h.slack.waitFor(() => streamsIn(DM, thread).length === 1, 10_000, "the stream");
    h.slack.fail("chat.appendStream", { retryAfterS: 1 });
    await waitForStreams(DM, thread, ANSWER);
    expect(
      h.slack.calls.filter((c) => c.method === "chat.appendStream" && c.response?.error === "ratelimited"),
    ).toHaveLength(1);
  });

  it("ends the answer and the model request when the reader stops the stream in Slack itself", async () => {
    await start();
    h.testBot.fake.respond(() => ({ chunks: ["One ", "two ", "three ", "four"], chunkDelayMs: 150 }));
    const aborts = h.testBot.fake.clientAborts;
    const thread = await askInDmThread();
    await h.slack.waitFor(() => streamsIn(DM, thread).length === 1, 10_000, "the stream");
    h.slack.fail("chat.appendStream", { error: "stopped_by_user" });
    await h.slack.waitFor(
      () => h.slack.calls.some((c) => c.response?.error === "stopped_by_user"),
      10_000,
      "the refused append",
    );
    const conversation = `slack:${h.slack.teamId}:${DM}:${thread}`;
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(DM, thread).length === 1,
      10_000,
      "the control removed",
    );
    const deadline = Date.now() + 10_000;
    while (h.testBot.fake.clientAborts === aborts && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(h.testBot.fake.clientAborts).toBeGreaterThan(aborts);
    // Nothing continues in a new message; what was shown is remembered, marked cut off.
    expect(h.slack.botMessagesIn(DM, thread).filter((m) => !m.stream)).toHaveLength(0);
    while ((await h.testBot.bot.history(conversation)).at(-1)?.role !== "assistant" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect((await h.testBot.bot.history(conversation)).at(-1)).toMatchObject({
      role: "assistant",
      incomplete: true,
    });
  });

  it("with SLACK_STREAMING=native in a channel, only the asker sees it live; others the first chunk until it stops", async () => {
    await start({ streaming: "native" });
    h.testBot.fake.respond(() => slowly(ANSWER, 12, 60));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> explain`, ts }),
    );
    await h.slack.waitFor(
      () => (streamsIn(CHANNEL, ts)[0]?.stream?.chunks.length ?? 0) >= 3,
      10_000,
      "a stream with appends",
    );
    const live = streamsIn(CHANNEL, ts)[0]!;
    expect(h.slack.callsTo("chat.startStream")[0]!.params).toMatchObject({
      recipient_user_id: ALICE.id,
      recipient_team_id: h.slack.teamId,
    });
    expect(h.slack.seenBy(live, BOB.id)).toBe(live.stream!.chunks[0]);
    expect(h.slack.seenBy(live, ALICE.id).length).toBeGreaterThan(h.slack.seenBy(live, BOB.id).length);
    await waitForStreams(CHANNEL, ts, ANSWER);
    expect(h.slack.seenBy(live, BOB.id)).toBe(ANSWER);
  });

  it("with SLACK_STREAMING=edit, a DM thread is answered by edits", async () => {
    await start({ streaming: "edit" });
    h.testBot.fake.respond(() => slowly(ANSWER, 6, 30));
    const thread = await askInDmThread();
    await waitForAnswer(h, DM, thread, ANSWER);
    expect(h.slack.callsTo("chat.startStream")).toHaveLength(0);
  });

  it("never pings a group from a native stream, even when a mention is split across tokens", async () => {
    await start();
    h.testBot.fake.respond(() => ({
      chunks: ["Hey <!ch", "annel> and @ev", "eryone, also @he", "re and ", "<!subteam^S1|@devs>."],
      chunkDelayMs: 80,
    }));
    const thread = await askInDmThread();
    await h.slack.waitFor(() => streamsIn(DM, thread)[0]?.stream?.open === false, 10_000, "the end");
    const sent = h.slack.calls
      .filter((c) => c.method.startsWith("chat.") && c.method.endsWith("Stream"))
      .map((c) => String(c.params.markdown_text ?? ""));
    for (const text of sent) expect(text).not.toMatch(GROUP_PING);
    expect(streamsIn(DM, thread)[0]!.text.replace(/\u200B/g, "")).toBe(
      "Hey @channel and @everyone, also @here and @devs.",
    );
  });
});

function joined(messages: FakeSlackMessage[]): string {
  return messages.map((m) => m.text).join("");
}
