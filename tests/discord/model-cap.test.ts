import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BusyError } from "../../src/errors.js";
import { ModelCallLimiter } from "../../src/turn/index.js";
import { type Harness, startHarness } from "./harness.js";

describe("Discord: the global cap on model calls", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      bot: { botOptions: { modelCalls: new ModelCallLimiter({ maxConcurrent: 1, queueTimeoutMs: 200 }) } },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it("refuses a turn past the cap with a visible reply, not silence, and calls no model for it", async () => {
    const answer = "Alice gets the one model call there is, slowly.";
    h.fake.respond(() => ({ text: answer, chunkDelayMs: 100 }));
    const { aliceDm, bobDm } = h.discord.world;
    h.discord.say({ channel: aliceDm, content: "first" });
    await h.discord.waitFor(() => h.fake.requests.length === 1, "Alice's model call");
    h.discord.say({ channel: bobDm, content: "second" });
    await h.discord.waitForBotText(bobDm.id, `⚠️ ${new BusyError(0).userMessage}`);
    expect(h.fake.requests).toHaveLength(1);
    await h.discord.waitForBotText(aliceDm.id, answer);
    expect(h.fake.requests).toHaveLength(1);
  });
});
