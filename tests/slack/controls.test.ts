import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlackMessage } from "../fakes/slack.js";
import { appMentionEvent, messageEvent, pressButton } from "../fakes/slackEvents.js";
import { ALICE, BOB, CAROL, CHANNEL, CURSOR, DM, type Harness, startHarness } from "./harness.js";

const STOP = "chatbot_stop";
const FEEDBACK = "chatbot_feedback";

/** Slack's mrkdwn wraps italics in zero-width spaces; people do not see them. */
const plain = (text: string) => text.replace(/\u200B/g, "");
/** Every block type a message carries now, in order. */
const blockTypes = (m: FakeSlackMessage | undefined) => (m?.blocks ?? []).map((b) => b.type as string);

for (const mode of ["http", "socket"] as const) {
  describe(`Slack: Stop and feedback buttons (${mode === "http" ? "HTTP events" : "Socket Mode"})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ mode });
    });
    afterAll(() => h.close());

    /** Alice mentions the bot in the channel; the model writes `chunks` and then stalls. */
    const askAndStall = async (chunks: string[], user = ALICE.id) => {
      h.testBot.fake.respond(() => ({ chunks, chunkDelayMs: 20, stallAfterChunks: chunks.length }));
      const ts = h.slack.nextTs();
      await h.deliver(appMentionEvent({ channel: CHANNEL, user, text: `<@${h.slack.botUserId}> go on`, ts }));
      const shown = chunks.join("");
      await h.slack.waitFor(
        () => h.slack.botMessagesIn(CHANNEL, ts)[0]?.text === `${shown}${CURSOR}`,
        10_000,
        "the partial answer with its cursor",
      );
      return { ts, message: () => h.slack.botMessagesIn(CHANNEL, ts)[0]! };
    };

    it("Stop by the asker closes the model's connection and ends the message with who stopped it", async () => {
      const aborts = h.testBot.fake.clientAborts;
      const { ts, message } = await askAndStall(["Half of ", "an answer"]);
      // While it is written the message carries a Stop button.
      expect(blockTypes(message())).toEqual(["section", "actions"]);
      const res = await h.press(pressButton(h.slack, message(), STOP, { user: ALICE.id }));
      if (res) expect(res.status).toBe(200);
      // The model request itself is cancelled: the fake model sees its connection closed.
      await h.slack.waitFor(() => !message().text.includes(CURSOR), 10_000, "the final edit");
      await waitUntil(() => h.testBot.fake.clientAborts > aborts, "the model's connection closed");
      expect(plain(message().text)).toBe("Half of an answer\n\n_Stopped by Alice._");
      // No cursor, no button: neither Stop nor feedback on a stopped answer.
      expect(blockTypes(message())).toEqual(["section"]);
      // Remembered as what was shown, marked cut off.
      const last = async () =>
        (await h.testBot.bot.history(`slack:${h.slack.teamId}:${CHANNEL}:${ts}`)).at(-1);
      await waitUntil(async () => (await last())?.role === "assistant", "the stored answer");
      expect(await last()).toMatchObject({ role: "assistant", text: "Half of an answer", incomplete: true });
    });

    it("refuses Stop from someone else, only to them; a workspace admin may stop it", async () => {
      const { message } = await askAndStall(["Alice's ", "answer"]);
      const ephemerals = h.slack.ephemerals.length;
      await h.press(pressButton(h.slack, message(), STOP, { user: BOB.id }));
      await waitUntil(() => h.slack.ephemerals.length > ephemerals, "the refusal");
      expect(h.slack.ephemerals.at(-1)).toMatchObject({
        channel: CHANNEL,
        user: BOB.id,
        text: `Only <@${ALICE.id}> (who asked) or an admin can stop this answer.`,
      });
      // Still being written, still stoppable.
      expect(message().text).toBe(`Alice's answer${CURSOR}`);
      expect(blockTypes(message())).toEqual(["section", "actions"]);

      await h.press(pressButton(h.slack, message(), STOP, { user: CAROL.id }));
      await h.slack.waitFor(() => !message().text.includes(CURSOR), 10_000, "the final edit");
      expect(plain(message().text)).toBe("Alice's answer\n\n_Stopped by Carol._");
    });

    it("a Stop pressed after the answer ended is answered, only to the presser, that it has", async () => {
      h.testBot.fake.respond(() => ({ chunks: ["Quick ", "answer."], chunkDelayMs: 200 }));
      const ts = h.slack.nextTs();
      await h.deliver(
        appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> hi`, ts }),
      );
      await h.slack.waitFor(
        () => blockTypes(h.slack.botMessagesIn(CHANNEL, ts)[0]).includes("actions"),
        10_000,
        "the Stop button",
      );
      // Pressed from a copy of the message taken while it was still written.
      const stale = structuredClone(h.slack.botMessagesIn(CHANNEL, ts)[0]!);
      await h.slack.waitFor(
        () => h.slack.botMessagesIn(CHANNEL, ts)[0]?.text === "Quick answer.",
        10_000,
        "the end",
      );
      const ephemerals = h.slack.ephemerals.length;
      await h.press(pressButton(h.slack, stale, STOP, { user: ALICE.id }));
      await waitUntil(() => h.slack.ephemerals.length > ephemerals, "the reply");
      expect(h.slack.ephemerals.at(-1)).toMatchObject({
        user: ALICE.id,
        text: "This answer has already ended.",
      });
      expect(h.slack.botMessagesIn(CHANNEL, ts)[0]!.text).toBe("Quick answer.");
    });

    it("stores a vote per person per answer, changeable, from the feedback buttons of a finished answer", async () => {
      h.testBot.fake.respond(() => ({ text: "A complete answer." }));
      const ts = h.slack.nextTs();
      await h.deliver(
        appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> rate me`, ts }),
      );
      await h.slack.waitFor(
        () => blockTypes(h.slack.botMessagesIn(CHANNEL, ts)[0]).includes("context_actions"),
        10_000,
        "the feedback buttons",
      );
      const answer = h.slack.botMessagesIn(CHANNEL, ts)[0]!;
      expect(blockTypes(answer)).toEqual(["section", "context_actions"]);
      const conversationId = `slack:${h.slack.teamId}:${CHANNEL}:${ts}`;
      const messageId = `${CHANNEL}:${answer.ts}`;
      const vote = (user: string) => h.feedback.get("slack", messageId, user);

      const res = await h.press(pressButton(h.slack, answer, FEEDBACK, { user: ALICE.id, value: "up" }));
      if (res) expect(res.status).toBe(200);
      await waitUntil(async () => (await vote(ALICE.id)) !== undefined, "Alice's vote");
      expect(await vote(ALICE.id)).toMatchObject({
        conversationId,
        messageId,
        userId: ALICE.id,
        value: "up",
      });

      await h.press(pressButton(h.slack, answer, FEEDBACK, { user: ALICE.id, value: "down" }));
      await waitUntil(async () => (await vote(ALICE.id))?.value === "down", "Alice's changed vote");
      await h.press(pressButton(h.slack, answer, FEEDBACK, { user: BOB.id, value: "up" }));
      await waitUntil(async () => (await vote(BOB.id)) !== undefined, "Bob's vote");

      const all = [];
      for await (const v of h.feedback.votes()) if (v.messageId === messageId) all.push(v);
      expect(all.map((v) => [v.userId, v.value])).toEqual([
        [ALICE.id, "down"],
        [BOB.id, "up"],
      ]);
      expect(
        h.logs.some((l) => l.msg === "feedback vote changed" && l.previous === "up" && l.value === "down"),
      ).toBe(true);
    });

    it("a native stream's Stop control stops it; the control goes, the stream ends with who stopped it", async () => {
      const parent = h.slack.addMessage({ channel: DM, user: ALICE.id, text: "a chat" });
      h.testBot.fake.respond(() => ({
        chunks: ["Streaming ", "natively"],
        chunkDelayMs: 20,
        stallAfterChunks: 2,
      }));
      await h.deliver(
        messageEvent({ channel: DM, user: ALICE.id, text: "go", ts: h.slack.nextTs(), thread_ts: parent.ts }),
      );
      const stream = () => h.slack.botMessagesIn(DM, parent.ts).find((m) => m.stream);
      const control = () => h.slack.botMessagesIn(DM, parent.ts).find((m) => !m.stream);
      await h.slack.waitFor(
        () => stream()?.text === "Streaming natively" && control() !== undefined,
        10_000,
        "the stream and its Stop control",
      );
      const aborts = h.testBot.fake.clientAborts;
      await h.press(pressButton(h.slack, control()!, STOP, { user: ALICE.id }));
      await h.slack.waitFor(
        () => stream()?.stream?.open === false && !control(),
        10_000,
        "the stopped stream",
      );
      await waitUntil(() => h.testBot.fake.clientAborts > aborts, "the model's connection closed");
      expect(stream()!.text).toBe("Streaming natively\n\n_Stopped by Alice._");
      expect(stream()!.blocks).toBeUndefined();
    });
  });
}

describe("Slack: button presses over HTTP are verified like events", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it("a press with a bad or missing signature gets 401 and runs nothing", async () => {
    h.testBot.fake.respond(() => ({ chunks: ["Still ", "going"], chunkDelayMs: 20, stallAfterChunks: 2 }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> go`, ts }),
    );
    const message = () => h.slack.botMessagesIn(CHANNEL, ts)[0]!;
    await h.slack.waitFor(() => message()?.text === `Still going${CURSOR}`, 10_000, "the partial answer");
    const press = pressButton(h.slack, message(), STOP, { user: ALICE.id });
    expect((await h.press(press, { secret: "not-the-secret" }))?.status).toBe(401);
    expect((await h.press(press, { unsigned: true }))?.status).toBe(401);
    // A correctly signed press afterwards is the one that stops it.
    expect(message().text).toBe(`Still going${CURSOR}`);
    expect((await h.press(press))?.status).toBe(200);
    await h.slack.waitFor(() => !message().text.includes(CURSOR), 10_000, "the final edit");
    expect(plain(message().text)).toBe("Still going\n\n_Stopped by Alice._");
  });
});

/** Waits for a condition outside the fake Slack (the fake model, the store); fails after 10 s. */
async function waitUntil(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
