import { afterEach, describe, expect, it } from "vitest";
import { InflightMessages } from "../../src/memory/inflight.js";
import { CURSOR, type Harness, startHarness } from "./harness.js";

describe("a bot process that dies mid-answer on Discord", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("leaves no cursor: a live process finishes the message with what was shown and a note", async () => {
    h = await startHarness({ inflight: { heartbeatMs: 50 } });
    h.fake.respond(() => ({ chunks: ["Half of ", "an answer", " never finished"], stallAfterChunks: 2 }));
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "go" });
    await h.discord.waitForBotText(dm.id, `Half of an answer${CURSOR}`);
    // The process dies: its heartbeat stops and nothing else of it runs.
    clearInterval((h.inflight as unknown as { timer: NodeJS.Timeout }).timer);

    const survivor = new InflightMessages(h.store.state, h.store.atomic, { cursor: CURSOR, heartbeatMs: 50 });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.sweep({ discord: h.adapter.finishMessage })).toBe(1);
    const [message] = h.discord.botMessages(dm.id);
    expect(message!.content).not.toContain(CURSOR);
    expect(message!.content).toMatch(
      /^Half of an answer\n\n⚠️ The bot restarted before finishing this answer/,
    );
    await survivor.stop();
  });
});
