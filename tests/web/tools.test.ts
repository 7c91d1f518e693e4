import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Place } from "../../src/settings/index.js";
import { everythingServer } from "../helpers/mcp.js";
import { post, readSse, startWeb, type WebHarness } from "./harness.js";

/** Where web turns count (the web has no place: one workspace of its own). */
const WEB: Place = { platform: "web", workspace: "web" };

for (const provider of ["openai", "anthropic"] as const) {
  describe(`web: tools over MCP (${provider})`, () => {
    let t: WebHarness;
    beforeAll(async () => {
      t = await startWeb({ bot: { provider, tools: { servers: [everythingServer()] } } });
    }, 60_000);
    afterAll(() => t.close());

    it("streams event: tool as each call starts and ends, beside the tokens", async () => {
      t.fake.enqueue(
        {
          text: "Adding. ",
          toolCalls: [
            { name: "get-sum", args: { a: 1, b: 2 } },
            { name: "echo", args: { message: "hi" } },
          ],
        },
        { text: "3, and hi." },
      );
      const res = await post(t.baseUrl, "/chat/stream", { message: "add and echo" });
      expect(res.status).toBe(200);
      const { events, text } = await readSse(res);
      const tools = events.filter((e) => e.event === "tool").map((e) => JSON.parse(e.data));
      expect(tools).toHaveLength(4);
      expect(
        tools
          .filter((e) => e.status === "started")
          .map((e) => e.name)
          .sort(),
      ).toEqual(["echo", "get-sum"]);
      expect(
        tools
          .filter((e) => e.status === "done")
          .map((e) => e.name)
          .sort(),
      ).toEqual(["echo", "get-sum"]);
      for (const e of tools) expect(Object.keys(e).sort()).toEqual(["name", "status"]);
      // Both started before either ended: they ran at once.
      expect(tools.slice(0, 2).every((e) => e.status === "started")).toBe(true);
      expect(text).toBe("Adding. \n\n3, and hi.");
      const notices = events.filter((e) => e.event === "notice").map((e) => e.data);
      expect(notices).toContain("_🔧 Used get-sum, echo_");
      expect(events.at(-1)?.event).toBe("done");
    });

    it("counts every round's usage: both model requests of a tool turn", async () => {
      const before = await t.usage.summary(WEB, "web");
      const reportedBefore = t.fake.usageReported.length;
      t.fake.enqueue({ toolCalls: [{ name: "get-sum", args: { a: 5, b: 5 } }] }, { text: "10." });
      const res = await post(t.baseUrl, "/chat", { message: "5+5", user: "counted" });
      expect(res.status).toBe(200);
      const reported = t.fake.usageReported.slice(reportedBefore);
      expect(reported).toHaveLength(2);
      const input = reported.reduce(
        (s, u) => s + u.inputTokens + u.cachedInputTokens + u.cacheWriteTokens,
        0,
      );
      const output = reported.reduce((s, u) => s + u.outputTokens, 0);
      const after = await t.usage.summary(WEB, "web");
      expect(after.workspace.today.inputTokens - before.workspace.today.inputTokens).toBe(input);
      expect(after.workspace.today.outputTokens - before.workspace.today.outputTokens).toBe(output);
      expect(after.workspace.today.turns - before.workspace.today.turns).toBe(1);
    });
  });
}
