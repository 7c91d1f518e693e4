import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { type ApprovalQuestion, Approvals } from "../../src/tools/index.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const question = { askerId: "U1", askerName: "Ann", tool: "add-note", server: "notes", args: { text: "x" } };

/** A surface that records each question and what it was settled with. */
function surface() {
  const asked: ApprovalQuestion[] = [];
  const outcomes: string[] = [];
  const ask = async (q: ApprovalQuestion) => {
    asked.push(q);
    return async (outcome: string) => {
      outcomes.push(outcome);
    };
  };
  return { asked, outcomes, ask };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const redis = await backendAvailable("redis");

describe.skipIf(!redis)("approvals across replicas (Redis)", () => {
  let a: KeyvConversationStore;
  let b: KeyvConversationStore;
  beforeAll(() => {
    const options = { maxMessages: 10, ttlMs: 60_000, purgeIntervalMs: 0 };
    a = createStore(BACKENDS.redis, options);
    b = createStore(BACKENDS.redis, options);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("a press on the other replica answers the question; only the asker's counts", async () => {
    const here = new Approvals({ shared: a.state, pollMs: 20 });
    const there = new Approvals({ shared: b.state, pollMs: 20 });
    const s = surface();
    const decided = here.ask(question, s.ask, { timeoutMs: 10_000, signal: new AbortController().signal });
    await until(() => s.asked.length === 1);
    const id = s.asked[0]!.id;
    expect(await there.answer(id, "U2", "Bob", true)).toBe("not-yours");
    expect(await there.answer(id, "U1", "Ann", true)).toBe("settled");
    expect(await decided).toBe("approved");
    expect(s.outcomes).toEqual(["🔧 add-note: approved by Ann."]);
    // Settled and cleaned up: a second press finds nothing open.
    expect(await there.answer(id, "U1", "Ann", false)).toBe("unknown");
  });

  it("a Deny pressed elsewhere refuses the call", async () => {
    const here = new Approvals({ shared: a.state, pollMs: 20 });
    const there = new Approvals({ shared: b.state, pollMs: 20 });
    const s = surface();
    const decided = here.ask(question, s.ask, { timeoutMs: 10_000, signal: new AbortController().signal });
    await until(() => s.asked.length === 1);
    expect(await there.answer(s.asked[0]!.id, "U1", "Ann", false)).toBe("settled");
    expect(await decided).toBe("denied");
  });
});

describe("approvals in one process", () => {
  it("times out into a refusal, and a stop rejects with the turn's reason", async () => {
    const approvals = new Approvals();
    const s = surface();
    expect(
      await approvals.ask(question, s.ask, { timeoutMs: 30, signal: new AbortController().signal }),
    ).toBe("timeout");
    expect(s.outcomes).toEqual(["🔧 add-note: no answer in 30 ms, not run."]);
    const stop = new AbortController();
    const asked = approvals.ask(question, s.ask, { timeoutMs: 10_000, signal: stop.signal });
    await until(() => s.asked.length === 2);
    stop.abort(new Error("stopped"));
    await expect(asked).rejects.toThrow("stopped");
    expect(s.outcomes.at(-1)).toBe("🔧 add-note: not run, the answer was stopped.");
    expect(approvals.open).toBe(0);
  });
});
