import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamItem } from "../../src/stream/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";
import { everythingServer, type HttpMcp, startHttpMcp, toolResultsIn, toolsOffered } from "../helpers/mcp.js";

async function run(t: TestBot, incoming: Incoming) {
  let text = "";
  const notices: string[] = [];
  const tools: string[] = [];
  for await (const item of t.bot.reply(incoming) as AsyncIterable<StreamItem>) {
    if (typeof item === "string") text += item;
    else if (item.type === "notice") notices.push(item.text);
    else if (item.type === "tool") tools.push(`${item.name}:${item.status}`);
  }
  return { text, notices, tools };
}

const ask = (conversationId: string, text: string): Incoming => ({
  conversationId,
  author: { id: "U1", name: "Ann" },
  text,
  platform: "web",
});

for (const provider of ["openai", "anthropic"] as const) {
  describe(`tools over MCP (${provider})`, () => {
    let t: TestBot;
    let http: HttpMcp;
    beforeAll(async () => {
      http = await startHttpMcp();
      t = await makeTestBot({
        provider,
        tools: { servers: [everythingServer(), http.config("notes")], callTimeoutMs: 1_500, maxRounds: 2 },
      });
    }, 60_000);
    afterAll(async () => {
      await t.close();
      await http.close();
    });

    it("the real tool's result reaches the second model request, and the answer says which tool ran", async () => {
      t.fake.enqueue(
        { text: "Let me add. ", toolCalls: [{ name: "get-sum", args: { a: 2, b: 3 } }] },
        { text: "It is 5." },
      );
      const before = t.fake.requests.length;
      const r = await run(t, ask("web:sum", "what is 2+3?"));
      const [first, second] = t.fake.requests.slice(before);
      expect(toolsOffered(first?.body)).toContain("get-sum");
      expect(toolResultsIn(second?.body)).toEqual(["The sum of 2 and 3 is 5."]);
      expect(r.text).toBe("Let me add. \n\nIt is 5.");
      expect(r.tools).toEqual(["get-sum:started", "get-sum:done"]);
      expect(r.notices).toContain("_🔧 Used get-sum_");
    });

    it("parallel calls in one round run at once", async () => {
      t.fake.enqueue(
        {
          toolCalls: [
            { name: "meet", args: { n: 2, who: "a" } },
            { name: "meet", args: { n: 2, who: "b" } },
          ],
        },
        { text: "Both met." },
      );
      const before = t.fake.requests.length;
      const r = await run(t, ask("web:meet", "meet"));
      expect(toolResultsIn(t.fake.requests[before + 1]?.body)).toEqual([
        "a met 1 other(s)",
        "b met 1 other(s)",
      ]);
      expect(r.text).toBe("Both met.");
      expect(r.notices).toContain("_🔧 Used meet ×2_");
    });

    it("a hung tool times out: the model gets an error result, the user a line", async () => {
      t.fake.enqueue({ toolCalls: [{ name: "hang", args: {} }] }, { text: "It did not answer." });
      const before = t.fake.requests.length;
      const r = await run(t, ask("web:hang", "hang"));
      expect(toolResultsIn(t.fake.requests[before + 1]?.body)[0]).toMatch(/did not answer within 1500 ms/);
      expect(r.tools).toEqual(["hang:started", "hang:error"]);
      expect(r.notices).toContain("⚠️ hang: timed out");
      expect(r.text).toBe("It did not answer.");
    });

    it("a follow-up sees the stored call and result, in the provider's format", async () => {
      t.fake.enqueue({ toolCalls: [{ name: "lookup", args: { key: "x" } }] }, { text: "x is 42." });
      await run(t, ask("web:follow", "look x up"));
      t.fake.enqueue({ text: "As I found, 42." });
      await run(t, ask("web:follow", "what was it?"));
      const body = t.fake.lastBody;
      expect(toolResultsIn(body)).toEqual(["The value of x is 42."]);
      const stored = await t.bot.history("web:follow");
      expect(stored[1]?.tools?.[0]?.calls[0]).toMatchObject({
        tool: "lookup",
        server: "notes",
        result: "The value of x is 42.",
      });
    });

    it("rounds are bounded: the round after the last may not call tools, and the turn ends with an answer", async () => {
      const call = { toolCalls: [{ name: "lookup", args: { key: "k" } }] };
      t.fake.enqueue(call, call, { text: "Enough looking.", ...call });
      const before = t.fake.requests.length;
      const r = await run(t, ask("web:rounds", "look forever"));
      const sent = t.fake.requests.slice(before);
      // TOOL_MAX_ROUNDS is 2 here: two rounds of calls, then a request that may not call any.
      expect(sent).toHaveLength(3);
      const choice = (b: { tool_choice?: string | { type: string } }) =>
        typeof b.tool_choice === "object" ? b.tool_choice.type : b.tool_choice;
      expect(sent.map((q) => choice(q.body))).toEqual(["auto", "auto", "none"]);
      expect(toolResultsIn(sent[2]?.body)).toEqual(["The value of k is 42.", "The value of k is 42."]);
      expect(r.text).toBe("Enough looking.");
      expect(r.notices).toContain("_🔧 Used lookup ×2_");
    });

    it("a tool the model made up gets an error result", async () => {
      t.fake.enqueue({ toolCalls: [{ name: "no-such-tool", args: {} }] }, { text: "Sorry." });
      const r = await run(t, ask("web:unknown", "use a tool that is not there"));
      expect(toolResultsIn(t.fake.lastBody)).toEqual(["There is no tool named no-such-tool."]);
      expect(r.notices).toContain("⚠️ no-such-tool: the tool reported an error");
    });

    it("where no tools are on offer, earlier calls reach the model as text, never as tool blocks", async () => {
      const place = { platform: "slack", workspace: "T1", channel: `C-${provider}` };
      const conversationId = `slack:T1:C-${provider}:1`;
      const inPlace = (text: string): Incoming => ({
        ...ask(conversationId, text),
        platform: "slack",
        place,
      });
      t.fake.enqueue({ toolCalls: [{ name: "lookup", args: { key: "y" } }] }, { text: "y is 42." });
      await run(t, inPlace("look y up"));
      const admin = { id: "A", name: "admin" };
      await t.settings.set(place, "channel", "tools", { everything: false, notes: false }, admin);
      t.fake.enqueue({ text: "Still 42." });
      await run(t, inPlace("and y?"));
      const body = t.fake.lastBody;
      expect(toolsOffered(body)).toEqual([]);
      expect(toolResultsIn(body)).toEqual([]);
      const json = JSON.stringify(body.messages);
      expect(json).not.toMatch(/tool_use|tool_calls|"role":"tool"/);
      expect(json).toContain("[lookup answered: The value of y is 42.]");
    });

    it("the web offers no tool that needs approval, since it cannot ask", async () => {
      t.fake.enqueue({ text: "ok" });
      await run(t, ask("web:offer", "hi"));
      const offered = toolsOffered(t.fake.lastBody);
      expect(offered).toContain("lookup");
      expect(offered).not.toContain("add-note");
    });

    it("a tool result larger than the bound is cut and marked", async () => {
      const big = "y".repeat(5_000);
      t.fake.enqueue({ toolCalls: [{ name: "echo", args: { message: big } }] }, { text: "long" });
      await run(t, ask("web:big", "echo"));
      const [result] = toolResultsIn(t.fake.lastBody);
      expect(result?.length).toBeLessThan(4_100);
      expect(result).toMatch(/\[truncated: \d+ more characters\]$/);
      const stored = await t.bot.history("web:big");
      expect(stored[1]?.tools?.[0]?.calls[0]?.truncated).toBe(true);
    });
  });
}
