import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeSlackMessage } from "../fakes/slack.js";
import { appMentionEvent, messageEvent, pressButton, slashCommand } from "../fakes/slackEvents.js";
import { type HttpMcp, startHttpMcp, toolResultsIn, toolsOffered } from "../helpers/mcp.js";
import { ALICE, BOB, CHANNEL, CURSOR, DM, type Harness, startHarness } from "./harness.js";

const APPROVE = "chatbot_tool_approve";
const DENY = "chatbot_tool_deny";
const OTHER = "C0OTHER";
const ADMIN = { id: "U0ADMIN", name: "ada", display_name: "Ada", is_admin: true };
const plain = (text: string) => text.replace(/\u200B/g, "");
/** An approval question, or what it became once settled. */
const isQuestion = (text: string) => /may I run|^🔧 \S+: (approved|denied|no answer|not run)/.test(text);

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const provider of ["openai", "anthropic"] as const) {
  describe(`Slack: tools shown live, approved by the asker (${provider})`, () => {
    let h: Harness;
    let mcp: HttpMcp;
    beforeAll(async () => {
      mcp = await startHttpMcp();
      h = await startHarness({
        bot: { provider, tools: { servers: [mcp.config("notes", true)], approvalTimeoutMs: 60_000 } },
      });
      h.slack.addUser(ADMIN);
    }, 30_000);
    afterAll(async () => {
      await h.close();
      await mcp.close();
    });

    const ask = async (text: string, channel = CHANNEL) => {
      const ts = h.slack.nextTs();
      await h.deliver(
        appMentionEvent({ channel, user: ALICE.id, text: `<@${h.slack.botUserId}> ${text}`, ts }),
      );
      // The answer, not the approval question posted beside it.
      return { ts, answer: () => h.slack.botMessagesIn(channel, ts).find((m) => !isQuestion(m.text)) };
    };
    const finished = (m: () => FakeSlackMessage | undefined) =>
      until(() => m() !== undefined && !m()?.text.includes(CURSOR), "the final answer");

    it("while a tool runs the message shows its status line after the text; the final text has none", async () => {
      h.testBot.fake.enqueue(
        { text: "Checking. ", toolCalls: [{ name: "wait", args: {} }] },
        { text: "All done." },
      );
      const { answer } = await ask("check it");
      await until(() => answer()?.text.includes("🔧 wait…") === true && mcp.waiting === 1, "the status line");
      expect(answer()?.text).toBe(`Checking.\n\n🔧 wait…${CURSOR}`);
      mcp.release();
      await finished(answer);
      const final = plain(answer()?.text ?? "");
      expect(final).not.toContain("🔧 wait…");
      expect(final).toBe("Checking.\n\nAll done.\n\n_🔧 Used wait_");
    });

    it("a tool that changes things runs only after the asker approves; someone else's press is refused", async () => {
      h.testBot.fake.enqueue(
        { toolCalls: [{ name: "add-note", args: { text: "buy milk" } }] },
        { text: "Noted." },
      );
      const before = h.testBot.fake.requests.length;
      const { ts, answer } = await ask("note: buy milk");
      const question = () =>
        h.slack.botMessagesIn(CHANNEL, ts).find((m) => JSON.stringify(m.blocks ?? []).includes(APPROVE));
      await until(() => question() !== undefined, "the approval question");
      expect(question()?.text).toContain(`<@${ALICE.id}>, may I run *add-note* (notes)?`);
      const ephemerals = h.slack.ephemerals.length;
      await h.press(pressButton(h.slack, question() as FakeSlackMessage, APPROVE, { user: BOB.id }));
      await until(() => h.slack.ephemerals.length > ephemerals, "the refusal to Bob");
      expect(h.slack.ephemerals.at(-1)).toMatchObject({
        user: BOB.id,
        text: "Only the person who asked can approve or deny this.",
      });
      expect(mcp.notes).not.toContain("buy milk");
      const asked = h.slack.botMessagesIn(CHANNEL, ts).find((m) => m.text.includes("may I run"));
      await h.press(pressButton(h.slack, asked as FakeSlackMessage, APPROVE, { user: ALICE.id }));
      await finished(answer);
      expect(mcp.notes).toContain("buy milk");
      expect(toolResultsIn(h.testBot.fake.requests[before + 1]?.body)).toEqual(["Noted: buy milk"]);
      await until(() => plain(asked?.text ?? "").includes("approved by Alice"), "the question's outcome");
      const updated = h.slack.message(CHANNEL, asked?.ts ?? "");
      expect(updated?.blocks ?? []).toEqual([]);
    });

    it("Deny tells the model it was refused, and the tool never runs", async () => {
      h.testBot.fake.enqueue(
        { toolCalls: [{ name: "add-note", args: { text: "secret" } }] },
        { text: "Not noted." },
      );
      const before = h.testBot.fake.requests.length;
      const { ts, answer } = await ask("note: secret");
      const question = () => h.slack.botMessagesIn(CHANNEL, ts).find((m) => m.text.includes("may I run"));
      await until(() => question() !== undefined, "the approval question");
      await h.press(pressButton(h.slack, question() as FakeSlackMessage, DENY, { user: ALICE.id }));
      await finished(answer);
      expect(mcp.notes).not.toContain("secret");
      expect(toolResultsIn(h.testBot.fake.requests[before + 1]?.body)[0]).toMatch(
        /refused and did not run: Alice denied it/,
      );
      expect(plain(answer()?.text ?? "")).toContain("⚠️ add-note: not run (not approved)");
    });

    it("a channel where no server is on offers the model no tools; /chatbot tools turns one on", async () => {
      const off = await h.post.form(
        slashCommand(h.slack, {
          command: "/chatbot",
          channel: OTHER,
          user: ADMIN.id,
          text: "tools notes off",
        }),
      );
      expect(((await off.json()) as { text: string }).text).toMatch(/Turned tools notes off for <#C0OTHER>/);
      h.testBot.fake.enqueue({ text: "No tools here." });
      const { answer } = await ask("anything?", OTHER);
      await finished(answer);
      expect(toolsOffered(h.testBot.fake.lastBody)).toEqual([]);
      await h.post.form(
        slashCommand(h.slack, {
          command: "/chatbot",
          channel: OTHER,
          user: ADMIN.id,
          text: "tools notes on",
        }),
      );
      h.testBot.fake.enqueue({ text: "Tools here." });
      const again = await ask("and now?", OTHER);
      await finished(again.answer);
      expect(toolsOffered(h.testBot.fake.lastBody)).toContain("add-note");
    });

    it("Stop while the question waits ends the turn; the question says it was not run", async () => {
      h.testBot.fake.enqueue({
        text: "I will note it. ",
        toolCalls: [{ name: "add-note", args: { text: "never" } }],
      });
      const before = h.testBot.fake.requests.length;
      const { ts, answer } = await ask("note never");
      const question = () => h.slack.botMessagesIn(CHANNEL, ts).find((m) => isQuestion(m.text));
      await until(
        () => question() !== undefined && answer()?.text.includes("🔧 add-note…") === true,
        "the question",
      );
      await h.press(pressButton(h.slack, answer() as FakeSlackMessage, "chatbot_stop", { user: ALICE.id }));
      await finished(answer);
      expect(plain(answer()?.text ?? "")).toBe("I will note it.\n\n_Stopped by Alice._");
      await until(
        () => plain(question()?.text ?? "").includes("not run, the answer was stopped"),
        "the question closed",
      );
      expect(h.slack.message(CHANNEL, question()?.ts ?? "")?.blocks ?? []).toEqual([]);
      expect(mcp.notes).not.toContain("never");
      expect(h.testBot.fake.requests.length).toBe(before + 1);
    });

    it("Stop during a tool call ends the turn", async () => {
      h.testBot.fake.enqueue({ text: "Waiting. ", toolCalls: [{ name: "wait", args: {} }] });
      const before = h.testBot.fake.requests.length;
      const { answer } = await ask("wait for it");
      await until(() => answer()?.text.includes("🔧 wait…") === true, "the status line");
      await h.press(pressButton(h.slack, answer() as FakeSlackMessage, "chatbot_stop", { user: ALICE.id }));
      await finished(answer);
      expect(plain(answer()?.text ?? "")).toBe("Waiting.\n\n_Stopped by Alice._");
      mcp.release();
      await new Promise((r) => setTimeout(r, 100));
      expect(h.testBot.fake.requests.length).toBe(before + 1);
    });
  });
}

describe("Slack: an approval nobody answers is refused when its time is up", () => {
  let h: Harness;
  let mcp: HttpMcp;
  beforeAll(async () => {
    mcp = await startHttpMcp();
    h = await startHarness({
      bot: { tools: { servers: [mcp.config("notes", true)], approvalTimeoutMs: 300 } },
    });
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await mcp.close();
  });

  it("the model is told it was refused, the question says no one answered", async () => {
    h.testBot.fake.enqueue(
      { toolCalls: [{ name: "add-note", args: { text: "late" } }] },
      { text: "Too late." },
    );
    const before = h.testBot.fake.requests.length;
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> note`, ts }),
    );
    await until(() => h.testBot.fake.requests.length === before + 2, "the second model request");
    expect(toolResultsIn(h.testBot.fake.requests[before + 1]?.body)[0]).toMatch(/did not approve it in time/);
    expect(mcp.notes).toEqual([]);
    await until(
      () =>
        h.slack
          .botMessagesIn(CHANNEL, ts)
          .some((m) => m.text.includes("no answer in 300 ms") || m.text.includes("not run")),
      "the question's outcome",
    );
  });
});

describe("Slack: native streaming says a tool runs in the thread's status (a stream only grows)", () => {
  let h: Harness;
  let mcp: HttpMcp;
  beforeAll(async () => {
    mcp = await startHttpMcp();
    h = await startHarness({ bot: { tools: { servers: [mcp.config("notes", true)] } } });
  }, 30_000);
  afterAll(async () => {
    await h.close();
    await mcp.close();
  });

  it("sets the status while the tool runs, clears it after; the stream never holds the status line", async () => {
    h.testBot.fake.enqueue(
      { text: "One moment. ", toolCalls: [{ name: "wait", args: {} }] },
      { text: "Here it is." },
    );
    const parent = h.slack.addMessage({ channel: DM, user: ALICE.id, text: "a chat" });
    await h.deliver(
      messageEvent({
        channel: DM,
        user: ALICE.id,
        text: "wait for it",
        ts: h.slack.nextTs(),
        thread_ts: parent.ts,
      }),
    );
    const thread = h.slack.thread(DM, parent.ts);
    // Slack clears a thread's status when the bot posts, so the history of statuses is what counts.
    await until(
      () => thread.statuses.includes("is running wait…") && mcp.waiting === 1,
      "the thread's tool status while the tool runs",
    );
    mcp.release();
    const stream = () => h.slack.botMessagesIn(DM, parent.ts).find((m) => m.stream);
    await until(
      () => stream() !== undefined && stream()?.stream?.open === false,
      "the stream closed",
      15_000,
    );
    expect(thread.statuses).toContain("is running wait…");
    expect(thread.statuses.at(-1)).toBe("");
    expect(stream()?.text).not.toContain("🔧 wait…");
    expect(stream()?.text).toContain("Here it is.");
  });
});
