import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChatError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { createStore } from "../../src/memory/store.js";
import { TurnTracker } from "../../src/turn/index.js";

const alice = { id: "U1", name: "Alice" };
const bob = { id: "U2", name: "Bob", isAdmin: false };
const admin = { id: "U3", name: "Ada", isAdmin: true };

/** A turn that runs until stopped; resolves with the reason it was stopped for. */
function runUntilStopped(tracker: TurnTracker, id: string) {
  let reason: unknown;
  const done = tracker.run({ id, conversationId: "c", platform: "test", askedBy: alice }, (signal) => {
    return new Promise<void>((resolve) => {
      signal.addEventListener("abort", () => {
        reason = signal.reason;
        resolve();
      });
    });
  });
  return { done, reason: () => reason };
}

describe("Stop on a running answer", () => {
  it("the asker stops it: the turn ends with 'Stopped by <name>'", async () => {
    const tracker = new TurnTracker(silentLogger());
    const turn = runUntilStopped(tracker, "t1");
    expect(await tracker.stop("t1", { ...alice, isAdmin: false })).toEqual({ outcome: "stopped" });
    await turn.done;
    expect(turn.reason()).toBeInstanceOf(ChatError);
    expect((turn.reason() as ChatError).userMessage).toBe("Stopped by Alice.");
  });

  it("anyone else is refused and the answer goes on; an admin may stop it", async () => {
    const tracker = new TurnTracker(silentLogger());
    const turn = runUntilStopped(tracker, "t2");
    expect(await tracker.stop("t2", bob)).toEqual({ outcome: "refused", askedBy: alice });
    expect(tracker.count()).toBe(1);
    expect(await tracker.stop("t2", admin)).toEqual({ outcome: "stopped" });
    await turn.done;
    expect((turn.reason() as ChatError).userMessage).toBe("Stopped by Ada.");
    expect(await tracker.stop("t2", admin)).toEqual({ outcome: "finished" });
  });

  it("an operator admin (CONFIG_FILE admins:) may stop anyone's answer too", async () => {
    const tracker = new TurnTracker(silentLogger(), { isOperatorAdmin: (id) => id === bob.id });
    const turn = runUntilStopped(tracker, "t4");
    expect(await tracker.stop("t4", bob)).toEqual({ outcome: "stopped" });
    await turn.done;
    expect((turn.reason() as ChatError).userMessage).toBe("Stopped by Bob.");
  });

  it("stopScope stops the turns of every conversation under a prefix, not its neighbours", async () => {
    const tracker = new TurnTracker(silentLogger());
    const reasons: Record<string, string> = {};
    const turn = (conversationId: string) =>
      tracker.run({ conversationId, platform: "test", askedBy: alice }, (signal) => {
        return new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            reasons[conversationId] = (signal.reason as ChatError).code;
            resolve();
          });
        });
      });
    const inScope = [turn("discord:G:C:1"), turn("discord:G:C:2")];
    void turn("discord:G:C2:3");
    void turn("discord:G:C");
    await tracker.stopScope("discord:G:C");
    await Promise.all(inScope);
    expect(reasons).toEqual({ "discord:G:C:1": "aborted", "discord:G:C:2": "aborted" });
    expect(tracker.count()).toBe(2);
    await tracker.stopConversation("discord:G:C2:3");
    await tracker.stopConversation("discord:G:C");
  });

  describe("across replicas sharing a store", () => {
    const dir = mkdtempSync(join(tmpdir(), "chatbot-tracker-"));
    const store = createStore(`sqlite://${join(dir, "t.sqlite")}`, {
      maxMessages: 10,
      ttlMs: 60_000,
      purgeIntervalMs: 0,
    });
    afterAll(() => store.close());

    it("a Stop pressed on another replica reaches the turn, with the same rule", async () => {
      const running = new TurnTracker(silentLogger(), { shared: store.state, stopPollMs: 20 });
      const other = new TurnTracker(silentLogger(), { shared: store.state, stopPollMs: 20 });
      const turn = runUntilStopped(running, "t3");
      // The turn's record is written as it starts.
      for (let i = 0; i < 100 && (await store.state.get("turn:t3")) === undefined; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await other.stop("t3", bob)).toEqual({ outcome: "refused", askedBy: alice });
      expect(await other.stop("t3", { ...alice, isAdmin: false })).toEqual({ outcome: "stopped" });
      await turn.done;
      expect((turn.reason() as ChatError).userMessage).toBe("Stopped by Alice.");
      expect(await other.stop("t3", admin)).toEqual({ outcome: "finished" });
    });
  });
});
