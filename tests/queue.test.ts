import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../src/turn/queue.js";
import { makeTestBot } from "./helpers/bot.js";

describe("KeyedQueue", () => {
  it("a waiter that gives up while an earlier turn runs does not let the next one in early", async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const releaseA = await queue.enter("x");
    events.push("A in");
    const controller = new AbortController();
    const b = queue.enter("x", controller.signal).then(
      () => events.push("B in"),
      () => events.push("B gave up"),
    );
    controller.abort(new Error("client left"));
    await b;
    // B was the last in line when it left; A still runs.
    const c = queue.enter("x").then((release) => {
      events.push("C in");
      return release;
    });
    await new Promise((r) => setTimeout(r, 20));
    events.push("A out");
    releaseA();
    (await c)();
    expect(events).toEqual(["A in", "B gave up", "A out", "C in"]);
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.activeKeys).toBe(0);
  });

  it("a waiter whose signal is already aborted takes no place, so the next one is not held up", async () => {
    const queue = new KeyedQueue();
    const releaseA = await queue.enter("y");
    const aborted = AbortSignal.abort(new Error("gone"));
    await expect(queue.enter("y", aborted)).rejects.toThrow("gone");
    const c = queue.enter("y");
    releaseA();
    (await c)();
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.activeKeys).toBe(0);
  });
});

describe("a turn's signal", () => {
  it("keeps no listener on the caller's signal once the turn is over", async () => {
    const t = await makeTestBot();
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) {
      for await (const _ of t.bot.reply(
        { conversationId: "web:listeners", author: { id: "u", name: "u" }, text: "hi" },
        signal,
      )) {
        // read the answer
      }
    }
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    await t.close();
  });
});
