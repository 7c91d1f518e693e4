import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EditBudgets, renderByEditing, splitMessage, systemClock } from "../../src/stream/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";
import { FakeReply } from "./fakes.js";

// End to end: a real Bot with the real OpenAI SDK against FakeOpenAI, rendered
// onto a recording platform with real time (short latencies).

let t: TestBot;
let n = 0;

beforeAll(async () => {
  t = await makeTestBot();
});

afterAll(async () => {
  await t.close();
});

function turn(text: string): { incoming: Incoming; reply: FakeReply } {
  n++;
  const budgets = new EditBudgets({ edits: 50, perMs: 1_000 });
  const reply = new FakeReply({
    clock: systemClock,
    budget: budgets.get("c"),
    latencyMs: 5,
    maxChars: 2_000,
  });
  return {
    incoming: { conversationId: `test:stream:${n}`, author: { id: "U1", name: "Ada" }, text },
    reply,
  };
}

describe("renderByEditing with a real bot turn", () => {
  it("shows the model's answer exactly, having grown it with a cursor", async () => {
    const answer = "Streaming works: this answer arrives in many small pieces and ends exactly right.";
    t.fake.respond(() => ({ text: answer, chunkDelayMs: 3 }));
    const { incoming, reply } = turn("hello");
    const result = await renderByEditing(t.bot.reply(incoming), reply);
    expect(reply.texts).toEqual([answer]);
    expect(result.text).toBe(answer);
    expect(reply.intermediateTexts().length).toBeGreaterThan(0);
    for (const text of reply.intermediateTexts()) expect(text.endsWith("▌")).toBe(true);
    const history = await t.bot.history(incoming.conversationId);
    expect(history.at(-1)).toMatchObject({ role: "assistant", text: answer });
  });

  it("splits a long answer into messages of at most 2,000 characters", async () => {
    const paragraph = "A long answer has many sentences. Each one adds a little more text to the reply. ";
    const answer = `${paragraph.repeat(12)}\n\n\`\`\`ts\n${"const x = 1;\n".repeat(250)}\`\`\`\n\n${paragraph.repeat(10)}`;
    t.fake.respond(() => ({ text: answer }));
    const { incoming, reply } = turn("write a lot");
    await renderByEditing(t.bot.reply(incoming), reply);
    expect(reply.texts).toEqual(splitMessage(answer, 2_000));
    expect(reply.texts.length).toBeGreaterThanOrEqual(3);
  });

  it("a connection cut mid-answer shows the partial text and a warning; memory keeps it as incomplete", async () => {
    t.fake.respond(() => ({
      chunks: ["Part one", ", part two", ", part three", " never"],
      cutAfterChunks: 3,
    }));
    const { incoming, reply } = turn("go");
    const result = await renderByEditing(t.bot.reply(incoming), reply);
    expect(result.error).toBeDefined();
    expect(result.text).toBe("Part one, part two, part three");
    expect(reply.texts).toEqual([`Part one, part two, part three\n\n⚠️ ${result.error?.userMessage}`]);
    const history = await t.bot.history(incoming.conversationId);
    expect(history.at(-1)).toMatchObject({ role: "assistant", text: result.text, incomplete: true });
  });

  it("a provider error before any token replaces the placeholder with the warning", async () => {
    t.fake.respond(() => ({ status: 401 }));
    const { incoming, reply } = turn("hi");
    const result = await renderByEditing(t.bot.reply(incoming), reply);
    expect(result.error?.code).toBe("auth");
    expect(reply.texts).toEqual([`⚠️ ${result.error?.userMessage}`]);
  });

  it("aborting a stalled answer ends the message with the text so far and 'Stopped.'", async () => {
    t.fake.respond(() => ({ chunks: ["Thinking", " about", " it"], stallAfterChunks: 3 }));
    const { incoming, reply } = turn("slow one");
    const abort = new AbortController();
    const rendering = renderByEditing(t.bot.reply(incoming, abort.signal), reply, { signal: abort.signal });
    while (!reply.texts[0]?.startsWith("Thinking about it")) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    const result = await rendering;
    expect(result.error?.code).toBe("aborted");
    expect(reply.texts).toEqual(["Thinking about it\n\n_Stopped._"]);
  });
});
