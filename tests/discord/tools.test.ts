import { afterEach, describe, expect, it } from "vitest";
import type { FakeMessage } from "../fakes/discord.js";
import { type HttpMcp, startHttpMcp, toolResultsIn, toolsOffered } from "../helpers/mcp.js";
import { CURSOR, type Harness, startHarness } from "./harness.js";

const EPHEMERAL = 64;
const isQuestion = (text: string) => /may I run|^🔧 \S+: (approved|denied|no answer|not run)/.test(text);

describe("Discord: tools shown live, approved by the asker", () => {
  let h: Harness | undefined;
  let mcp: HttpMcp | undefined;
  afterEach(async () => {
    await h?.close();
    await mcp?.close();
    h = undefined;
    mcp = undefined;
  });

  const start = async (provider: "openai" | "anthropic", approvalTimeoutMs = 60_000, everywhere = true) => {
    mcp = await startHttpMcp();
    h = await startHarness({
      bot: { provider, tools: { servers: [mcp.config("notes", everywhere)], approvalTimeoutMs } },
    });
    return { h, mcp };
  };
  const ask = (h: Harness, content: string) =>
    h.discord.say({
      channel: h.discord.world.general,
      content: `<@${h.discord.world.botUser.id}> ${content}`,
    });
  const answerIn = (h: Harness) => () =>
    h.discord.botMessages(h.discord.world.general.id).find((m) => !isQuestion(m.content));
  const questionIn = (h: Harness) => () =>
    h.discord.botMessages(h.discord.world.general.id).find((m) => isQuestion(m.content));
  const finished = (h: Harness, m: () => FakeMessage | undefined) =>
    h.discord.waitFor(() => {
      const shown = m();
      return shown && !shown.content.includes(CURSOR) && shown.content.length > 0 ? shown : undefined;
    }, "the final answer");

  for (const provider of ["openai", "anthropic"] as const) {
    it(`shows the status line while a tool runs, never in the final text (${provider})`, async () => {
      const { h, mcp } = await start(provider);
      h.fake.enqueue({ text: "Looking. ", toolCalls: [{ name: "wait", args: {} }] }, { text: "Found it." });
      ask(h, "look");
      const answer = answerIn(h);
      await h.discord.waitFor(
        () => (answer()?.content.includes("🔧 wait…") ? true : undefined),
        "the status line",
      );
      expect(answer()?.content).toBe(`Looking.\n\n🔧 wait…${CURSOR}`);
      mcp.release();
      const final = await finished(h, answer);
      expect(final.content).toBe("Looking. \n\nFound it.\n\n_🔧 Used wait_");
    });

    it(`runs a tool that changes things only after the asker's Approve (${provider})`, async () => {
      const { h, mcp } = await start(provider);
      h.fake.enqueue({ toolCalls: [{ name: "add-note", args: { text: "ship it" } }] }, { text: "Noted." });
      const before = h.fake.requests.length;
      ask(h, "note ship it");
      const question = questionIn(h);
      await h.discord.waitFor(() => question(), "the approval question");
      expect(question()?.content).toContain("may I run **add-note** (notes)?");
      const refused = h.discord.click({
        messageId: question()!.id,
        label: "Approve",
        user: h.discord.world.bob,
      });
      const callback = await h.discord.waitFor(
        () => h.discord.interactionCallbacks.find((c) => c.interactionId === refused),
        "the refusal",
      );
      expect(callback.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect(callback.body.data.content).toBe("Only the person who asked can approve or deny this.");
      expect(mcp.notes).toEqual([]);
      h.discord.click({ messageId: question()!.id, label: "Approve" });
      await finished(h, answerIn(h));
      expect(mcp.notes).toEqual(["ship it"]);
      expect(toolResultsIn(h.fake.requests[before + 1]?.body)).toEqual(["Noted: ship it"]);
      await h.discord.waitFor(
        () => (question()?.content.includes("approved by Alice") ? true : undefined),
        "the question's outcome",
      );
      expect(question()?.states.at(-1)?.buttons).toEqual([]);
    });
  }

  it("Deny tells the model it was refused; the tool never runs", async () => {
    const { h, mcp } = await start("openai");
    h.fake.enqueue({ toolCalls: [{ name: "add-note", args: { text: "no" } }] }, { text: "Fine." });
    const before = h.fake.requests.length;
    ask(h, "note no");
    const question = questionIn(h);
    await h.discord.waitFor(() => question(), "the approval question");
    h.discord.click({ messageId: question()!.id, label: "Deny" });
    const final = await finished(h, answerIn(h));
    expect(mcp.notes).toEqual([]);
    expect(toolResultsIn(h.fake.requests[before + 1]?.body)[0]).toMatch(
      /refused and did not run: Alice denied it/,
    );
    expect(final.content).toContain("⚠️ add-note: not run (not approved)");
  });

  it("no answer in time: refused, and the question says so", async () => {
    const { h, mcp } = await start("anthropic", 300);
    h.fake.enqueue({ toolCalls: [{ name: "add-note", args: { text: "late" } }] }, { text: "Too late." });
    const before = h.fake.requests.length;
    ask(h, "note late");
    await finished(h, answerIn(h));
    expect(toolResultsIn(h.fake.requests[before + 1]?.body)[0]).toMatch(/did not approve it in time/);
    expect(mcp.notes).toEqual([]);
    await h.discord.waitFor(
      () => (questionIn(h)()?.content.includes("no answer in") ? true : undefined),
      "the question's outcome",
    );
  });

  it("a channel without the setting offers no tools of a server not enabled everywhere; /config tools turns it on", async () => {
    const { h } = await start("openai", 60_000, false);
    h.fake.enqueue({ text: "No tools." });
    ask(h, "hi");
    await finished(h, answerIn(h));
    expect(toolsOffered(h.fake.lastBody)).toEqual([]);
    const id = h.discord.slash({
      channel: h.discord.world.general,
      name: "config",
      options: [
        {
          name: "tools",
          type: 1,
          options: [
            { name: "name", type: 3, value: "notes" },
            { name: "value", type: 3, value: "on" },
          ],
        },
      ],
    });
    const callback = await h.discord.waitFor(
      () => h.discord.interactionCallbacks.find((c) => c.interactionId === id),
      "/config tools",
    );
    expect(callback.body.data.content).toMatch(/Turned tools notes on for <#/);
    h.fake.enqueue({ text: "Tools." });
    const before = h.fake.requests.length;
    ask(h, "again");
    await h.discord.waitFor(() => (h!.fake.requests.length > before ? true : undefined), "the model request");
    expect(toolsOffered(h.fake.lastBody)).toContain("lookup");
  });
});
