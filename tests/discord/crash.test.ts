import { afterEach, describe, expect, it } from "vitest";
import { CrashRecovery } from "../../src/replicas/index.js";
import { CURSOR, type Harness, startHarness } from "./harness.js";

/** A process that dies: its heartbeat stops and nothing else of it runs. */
function crash(recovery: CrashRecovery): void {
  clearInterval((recovery as unknown as { beatTimer: NodeJS.Timeout }).beatTimer);
}

describe("a bot process that dies mid-answer on Discord", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("leaves no cursor: a live process finishes the message with what was shown and a note", async () => {
    h = await startHarness({ recovery: { heartbeatMs: 50 } });
    h.fake.respond(() => ({ chunks: ["Half of ", "an answer", " never finished"], stallAfterChunks: 2 }));
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "go" });
    const [streaming] = await h.discord.waitForBotText(dm.id, `Half of an answer${CURSOR}`);
    expect(streaming!.states.at(-1)!.buttons).toEqual(["Stop"]);
    crash(h.recovery!);

    const survivor = new CrashRecovery(h.store.state, h.store.coordination.atomic, {
      heartbeatMs: 50,
      sweepEveryMs: 0,
    });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.watch({ discord: h.adapter.finisher })).toBe(1);
    await h.discord.waitForBotText(
      dm.id,
      "Half of an answer\n\n⚠️ The bot restarted before finishing this answer. Please ask again.",
    );
    expect(h.discord.botMessages(dm.id)[0]!.content).not.toContain(CURSOR);
    // Nobody is left with a Stop button of a turn that no longer runs.
    expect(h.discord.botMessages(dm.id)[0]!.states.at(-1)!.buttons).toEqual([]);
    await survivor.stop();
  });
});
