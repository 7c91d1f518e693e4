import { describe, expect, it } from "vitest";
import { RenderOrder, renderByEditing, type StreamItem, TokenBucket } from "../../src/stream/index.js";
import { type FakeClock as Clock, FakeClock, FakeReply, fakeModel, prose, words } from "./fakes.js";

const CURSOR = "▌";

/**
 * A turn as the Bot streams it: the model's deltas, then "answered" (the
 * text is complete), then `storeMs` of storing and counting, then a notice.
 */
async function* turn(
  clock: Clock,
  deltas: string[],
  options: { firstMs?: number; everyMs?: number; storeMs?: number; onDone?: () => void } = {},
): AsyncGenerator<StreamItem> {
  yield* fakeModel(clock, deltas, options);
  options.onDone?.();
  yield { type: "answered" };
  await clock.sleep(options.storeMs ?? 300);
  yield { type: "notice", text: "_a notice_" };
}

/** Discord's channel budget on fake time: 5 per 5 s, the defaults (100 ms margin, finals wait ≤ 100 ms). */
const discordBudget = (clock: Clock) => new TokenBucket({ edits: 5, perMs: 5_000, clock });

describe("pacing for freshness", () => {
  it("spends the budget evenly from the first post on, and the final edit still goes out at once", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: discordBudget(clock), latencyMs: 90 });
    let lastTokenAt = 0;
    // 400 tokens at 40 a second: a 10 s answer.
    const deltas = words(prose(2_400, 3)).slice(0, 400);
    const result = await clock.run(
      renderByEditing(
        turn(clock, deltas, { everyMs: 25, storeMs: 0, onDone: () => (lastTokenAt = clock.now()) }),
        reply,
        { clock, placeholder: null },
      ),
    );
    expect(result.rateLimited).toBe(0);
    const at = reply.log.map((s) => s.at);
    const gaps = at.slice(1, -1).map((t, i) => t - (at[i] as number));
    // No second request right after the first post: every step between requests is the same.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_225);
    expect(Math.max(...gaps)).toBeLessThan(1_300);
    expect((at.at(-1) as number) - lastTokenAt).toBeLessThanOrEqual(100);
    expect(reply.texts[0]?.endsWith("_a notice_")).toBe(true);
  });

  it("sends no intermediate edit once the model said it is done: the final edit keeps its request", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: discordBudget(clock), latencyMs: 90 });
    let answeredAt = 0;
    const deltas = words(prose(600, 4)).slice(0, 100);
    await clock.run(
      renderByEditing(
        turn(clock, deltas, { everyMs: 25, storeMs: 400, onDone: () => (answeredAt = clock.now()) }),
        reply,
        { clock, placeholder: null },
      ),
    );
    const final = reply.log.at(-1);
    // Between "answered" and the end (400 ms of storing) nothing is sent; then the final at once.
    expect(reply.log.filter((s) => s.at > answeredAt && s !== final)).toEqual([]);
    expect(final?.at).toBe(answeredAt + 400);
    expect(final?.text.includes(CURSOR)).toBe(false);
    expect(final?.update).toEqual({ final: true, last: true });
  });

  it("goes on editing when the end takes longer than answeredWaitMs", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: discordBudget(clock), latencyMs: 90 });
    let answeredAt = 0;
    const deltas = words(prose(600, 5)).slice(0, 100);
    await clock.run(
      renderByEditing(
        turn(clock, deltas, { everyMs: 25, storeMs: 5_000, onDone: () => (answeredAt = clock.now()) }),
        reply,
        { clock, placeholder: null, answeredWaitMs: 1_000 },
      ),
    );
    const whileStoring = reply.log.filter((s) => s.at > answeredAt && s !== reply.log.at(-1));
    expect(whileStoring.length).toBeGreaterThan(0);
    expect(Math.min(...whileStoring.map((s) => s.at))).toBeGreaterThanOrEqual(answeredAt + 1_000);
  });
});

describe("RenderOrder: one conversation's answers in turn", () => {
  it("the next answer's first post waits for the previous answer's final edit, its model does not", async () => {
    const clock = new FakeClock();
    const budget = discordBudget(clock);
    const order = new RenderOrder();
    const first = new FakeReply({ clock, budget, latencyMs: 90, idPrefix: "a" });
    const second = new FakeReply({ clock, budget, latencyMs: 90, idPrefix: "b" });
    let secondFirstTokenAt = -1;
    let firstDone: () => void = () => {};
    const firstModelEnded = new Promise<void>((resolve) => {
      firstDone = resolve;
    });
    // The second model starts as the first one ends (the Bot's queue), answers at once, and is quick.
    async function* secondTurn(): AsyncGenerator<StreamItem> {
      await firstModelEnded;
      let i = 0;
      for await (const item of turn(clock, ["Second", " answer."], { firstMs: 1, everyMs: 1, storeMs: 0 })) {
        if (i++ === 0) secondFirstTokenAt = clock.now();
        yield item;
      }
    }
    const run = (reply: FakeReply, deltas: AsyncIterable<StreamItem>) => {
      const place = order.enter("conversation");
      return renderByEditing(deltas, reply, { clock, placeholder: null, after: place.after }).finally(
        place.done,
      );
    };
    const a = run(
      first,
      turn(clock, words(prose(400, 6)).slice(0, 60), { everyMs: 25, storeMs: 200, onDone: firstDone }),
    );
    const b = run(second, secondTurn());
    await clock.run(Promise.all([a, b]));
    const firstFinal = first.log.at(-1);
    const secondPost = second.log[0];
    expect(secondFirstTokenAt).toBeLessThan(firstFinal?.at ?? 0);
    expect(secondPost?.at).toBeGreaterThanOrEqual(firstFinal?.doneAt ?? Number.POSITIVE_INFINITY);
    expect(first.texts[0]?.includes(CURSOR)).toBe(false);
    expect(second.texts).toEqual(["Second answer.\n\n_a notice_"]);
  });

  it("a previous answer that failed does not hold the next one", async () => {
    const clock = new FakeClock();
    const reply = new FakeReply({ clock, budget: discordBudget(clock), latencyMs: 90 });
    const result = await clock.run(
      renderByEditing(turn(clock, ["Still", " here."], { storeMs: 0 }), reply, {
        clock,
        placeholder: null,
        after: Promise.reject(new Error("the previous answer failed")),
      }),
    );
    expect(result.error).toBeUndefined();
    expect(reply.texts).toEqual(["Still here.\n\n_a notice_"]);
  });
});
