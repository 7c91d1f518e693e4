import { describe, expect, it } from "vitest";
import { renderByEditing, type StreamItem } from "../../src/stream/index.js";
import { FakeClock, FakeReply, unlimited } from "./fakes.js";

const CURSOR = "▌";

/** A turn: text, a tool that runs for `toolMs`, more text; as StreamItems with fake time between them. */
async function* withTool(
  clock: FakeClock,
  before: string[],
  toolMs: number,
  after: string[],
): AsyncGenerator<StreamItem> {
  for (const d of before) {
    await clock.sleep(50);
    yield d;
  }
  yield { type: "tool", name: "get-sum", status: "started", callId: "c1" };
  yield { type: "tool", name: "echo", status: "started", callId: "c2" };
  await clock.sleep(toolMs / 2);
  yield { type: "tool", name: "echo", status: "done", callId: "c2" };
  await clock.sleep(toolMs / 2);
  yield { type: "tool", name: "get-sum", status: "done", callId: "c1" };
  for (const d of after) {
    await clock.sleep(50);
    yield d;
  }
  yield { type: "notice", text: "_🔧 Used get-sum, echo_" };
}

const shown = (reply: FakeReply) => reply.log.filter((s) => s.outcome === "ok").map((s) => s.text);

describe("renderByEditing: a tool's status line", () => {
  it("shows the running tools after the text so far, with the cursor; never in the final text", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: unlimited });
    const result = await clock.run(
      renderByEditing(withTool(clock, ["Let me ", "**check**. "], 2_000, ["It is ", "5."]), reply, { clock }),
    );
    const texts = shown(reply);
    expect(texts).toContain(`Let me **check**.\n\n🔧 get-sum, echo…${CURSOR}`);
    expect(texts).toContain(`Let me **check**.\n\n🔧 get-sum…${CURSOR}`);
    const final = texts.at(-1);
    expect(final).toBe("Let me **check**. It is 5.\n\n_🔧 Used get-sum, echo_");
    expect(final).not.toContain("get-sum…");
    expect(result.text).toBe("Let me **check**. It is 5.");
    // While it showed a status, the crash-recovery text (settled) was the answer alone.
    const withStatus = reply.log.filter((s) => s.text.includes("…"));
    for (const s of withStatus) expect(s.update).toEqual({ final: false, settled: "Let me **check**. " });
  });

  it("a tool before any text: its line is the message until the answer comes", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: unlimited });
    await clock.run(renderByEditing(withTool(clock, [], 1_000, ["Done."]), reply, { clock }));
    const texts = shown(reply);
    // The tools started before anything was posted: the message opens with their line.
    expect(texts[0]).toBe(`🔧 get-sum, echo…${CURSOR}`);
    expect(texts).toContain(`🔧 get-sum…${CURSOR}`);
    expect(texts.at(-1)).toBe("Done.\n\n_🔧 Used get-sum, echo_");
  });

  it("closes open Markdown before the status line, so the line is not inside a code block", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: unlimited });
    await clock.run(
      renderByEditing(withTool(clock, ["```js\n", "const a = 1;\n"], 1_000, ["```\nok"]), reply, { clock }),
    );
    expect(shown(reply)).toContain(`\`\`\`js\nconst a = 1;\n\`\`\`\n\n🔧 get-sum, echo…${CURSOR}`);
  });
});
