import { describe, expect, it } from "vitest";
import { EditBudgets, TokenBucket } from "../../src/stream/index.js";
import { FakeClock, maxInWindow } from "./fakes.js";

/** Acquires `count` times with `priority`, recording each grant's fake time under `name`. */
function take(
  budget: TokenBucket,
  clock: FakeClock,
  grants: [string, number][],
  name: string,
  count: number,
) {
  return (async () => {
    for (let i = 0; i < count; i++) {
      await budget.acquire(undefined, "normal");
      grants.push([name, clock.now()]);
    }
  })();
}

describe("TokenBucket", () => {
  it("grants `edits` at once, then never more than `edits` in any window", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock, reserved: 0, marginMs: 0, paceMs: 0 });
    const grants: [string, number][] = [];
    await clock.run(take(budget, clock, grants, "a", 23));
    const times = grants.map(([, t]) => t);
    expect(times.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(times[5]).toBe(5_000);
    expect(maxInWindow(times, 5_000)).toBe(5);
    expect(times.at(-1)).toBe(20_000);
  });

  it("waits marginMs past the window by default, so jitter on the way cannot break the platform's limit", async () => {
    const clock = new FakeClock();
    const grants: [string, number][] = [];
    await clock.run(
      take(new TokenBucket({ edits: 5, perMs: 5_000, clock, reserved: 0, paceMs: 0 }), clock, grants, "a", 6),
    );
    expect(grants.at(-1)?.[1]).toBe(5_100);
    const slack: [string, number][] = [];
    await clock.run(
      take(new TokenBucket({ edits: 2, perMs: 60_000, clock, reserved: 0 }), clock, slack, "b", 3),
    );
    expect((slack.at(-1)?.[1] ?? 0) - (slack[0]?.[1] ?? 0)).toBe(60_250);
  });

  it("paces intermediate edits evenly over the window instead of bursting, but not first posts or finals", async () => {
    const clock = new FakeClock();
    // 5 per 5 s, one reserved (never used by normal edits), no margin: a normal edit every 5000 / 4 = 1250 ms.
    const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock, marginMs: 0, finalWaitMs: 0 });
    const grants: [string, number][] = [];
    await clock.run(take(budget, clock, grants, "a", 6));
    expect(grants.map(([, t]) => t)).toEqual([0, 1_250, 2_500, 3_750, 5_000, 6_250]);

    const fresh = new TokenBucket({ edits: 5, perMs: 5_000, clock, marginMs: 0, finalWaitMs: 0 });
    const start = clock.now();
    const at: Record<string, number> = {};
    await fresh.acquire(undefined, "normal");
    await clock.run(
      Promise.all([
        fresh.acquire(undefined, "normal").then(() => (at.normal = clock.now() - start)),
        fresh.acquire(undefined, "first").then(() => (at.first = clock.now() - start)),
        fresh.acquire(undefined, "final").then(() => (at.final = clock.now() - start)),
      ]),
    );
    expect(at).toEqual({ first: 0, final: 0, normal: 1_250 });
  });

  it("does not burst after a first post: the next edit comes one even step later", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock, marginMs: 0, finalWaitMs: 0 });
    await budget.acquire(undefined, "first");
    const grants: [string, number][] = [];
    await clock.run(take(budget, clock, grants, "a", 2));
    expect(grants.map(([, t]) => t)).toEqual([1_250, 2_500]);
  });

  it("lets intermediate edits use the reserved request only where a final edit would get it within finalWaitMs", async () => {
    // No margin, final edits wait at most 100 ms: intermediate edits every (5000 - 100) / 4 = 1225 ms.
    const options = { edits: 5, perMs: 5_000, marginMs: 0, finalWaitMs: 100 };
    const clock = new FakeClock();
    const grants: [string, number][] = [];
    await clock.run(take(new TokenBucket({ ...options, clock }), clock, grants, "a", 12));
    const times = grants.map(([, t]) => t);
    expect(times.slice(0, 6)).toEqual([0, 1_225, 2_450, 3_675, 4_900, 6_125]);
    expect(maxInWindow(times, 5_000)).toBe(5);
    // A stream that keeps editing ends at some moment: its final edit gets a request within 100 ms.
    const waits: number[] = [];
    for (const endAt of [137, 1_300, 2_500, 4_950, 6_150, 8_620, 9_850, 11_000]) {
      const c = new FakeClock();
      const budget = new TokenBucket({ ...options, clock: c });
      const stop = new AbortController();
      const editing = (async () => {
        while (!stop.signal.aborted) await budget.acquire(stop.signal, "normal");
      })().catch(() => {});
      await c.run(c.sleep(endAt));
      stop.abort();
      await c.run(editing);
      await c.run(budget.acquire(undefined, "final"));
      waits.push(c.now() - endAt);
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(100);
    expect(waits.some((w) => w > 0)).toBe(true);
  });

  it("keeps `reserved` requests for final edits and first posts", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock, marginMs: 0, paceMs: 0 }); // reserves 1
    const order: string[] = [];
    for (let i = 0; i < 4; i++) await budget.acquire(undefined, "normal");
    let normalGranted = false;
    const normal = budget.acquire(undefined, "normal").then(() => {
      normalGranted = true;
      order.push(`normal@${clock.now()}`);
    });
    await clock.run(budget.acquire(undefined, "final").then(() => order.push(`final@${clock.now()}`)));
    expect(normalGranted).toBe(false);
    await clock.run(normal);
    expect(order).toEqual(["final@0", "normal@5000"]);
  });

  it("serves waiters by priority, then in arrival order", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 1, perMs: 1_000, clock, marginMs: 0 });
    await budget.acquire();
    const order: string[] = [];
    const waits = [
      budget.acquire(undefined, "normal").then(() => order.push("normal 1")),
      budget.acquire(undefined, "first").then(() => order.push("first 1")),
      budget.acquire(undefined, "normal").then(() => order.push("normal 2")),
      budget.acquire(undefined, "final").then(() => order.push("final 1")),
      budget.acquire(undefined, "first").then(() => order.push("first 2")),
    ];
    await clock.run(Promise.all(waits));
    expect(order).toEqual(["final 1", "first 1", "first 2", "normal 1", "normal 2"]);
    expect(clock.now()).toBe(5_000);
  });

  it("shares one budget fairly: streams that keep asking take turns", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock, reserved: 0 });
    const grants: [string, number][] = [];
    // "greedy" asks first and wants far more; "late" joins after it.
    const greedy = take(budget, clock, grants, "greedy", 40);
    const late = take(budget, clock, grants, "late", 10);
    await clock.run(late);
    const beforeLateDone = grants.filter(([, t]) => t <= clock.now());
    const greedyCount = beforeLateDone.filter(([n]) => n === "greedy").length;
    expect(greedyCount).toBeLessThanOrEqual(12);
    expect(greedyCount).toBeGreaterThanOrEqual(9);
    await clock.run(greedy);
    expect(
      maxInWindow(
        grants.map(([, t]) => t),
        5_000,
      ),
    ).toBe(5);
  });

  it("pause() holds every waiter until the time the platform asked for", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 50, perMs: 60_000, clock, paceMs: 0 });
    await budget.acquire();
    budget.pause(3_000);
    let at = -1;
    await clock.run(budget.acquire(undefined, "final").then(() => (at = clock.now())));
    expect(at).toBe(3_000);
    budget.pause(1_000);
    budget.pause(500); // a shorter pause does not shorten the longer one
    await clock.run(budget.acquire().then(() => (at = clock.now())));
    expect(at).toBe(4_000);
  });

  it("an aborted waiter leaves without taking a request", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 1, perMs: 1_000, clock, marginMs: 0 });
    await budget.acquire();
    const abort = new AbortController();
    const gone = budget.acquire(abort.signal);
    const next = budget.acquire();
    abort.abort(new Error("stop"));
    await expect(gone).rejects.toThrow("stop");
    await clock.run(next);
    expect(clock.now()).toBe(1_000);
    await expect(budget.acquire(AbortSignal.abort(new Error("already")))).rejects.toThrow("already");
  });
});

describe("EditBudgets", () => {
  it("gives every stream of one scope the same budget and other scopes their own", async () => {
    const clock = new FakeClock();
    const budgets = new EditBudgets({ edits: 2, perMs: 1_000, clock, reserved: 0, paceMs: 0 });
    expect(budgets.get("channel-1")).toBe(budgets.get("channel-1"));
    expect(budgets.get("channel-2")).not.toBe(budgets.get("channel-1"));
    const c1 = budgets.get("channel-1");
    await c1.acquire();
    await c1.acquire();
    expect(c1.available()).toBe(0);
    expect(budgets.get("channel-2").available()).toBe(2);
  });

  it("forgets scopes idle for idleDropMs", async () => {
    const clock = new FakeClock();
    const budgets = new EditBudgets({ edits: 2, perMs: 1_000, clock, idleDropMs: 60_000 });
    await budgets.get("old").acquire();
    await clock.run(clock.sleep(61_000));
    budgets.get("new");
    expect(budgets.size).toBe(1);
  });

  it("rejects impossible limits", () => {
    expect(() => new EditBudgets({ edits: 0, perMs: 1_000 })).toThrow(RangeError);
    expect(() => new TokenBucket({ edits: 5, perMs: 0 })).toThrow(RangeError);
  });
});
