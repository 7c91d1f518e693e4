import { describe, expect, it } from "vitest";
import {
  type EditBudget,
  EditBudgets,
  renderByEditing,
  splitMessage,
  TokenBucket,
} from "../../src/stream/index.js";
import {
  type Answer,
  FakeClock,
  FakeReply,
  fakeModel,
  maxInWindow,
  prose,
  unlimited,
  words,
} from "./fakes.js";

const CURSOR = "▌";

function setup(
  options: {
    budget?: (clock: FakeClock) => EditBudget;
    maxChars?: number;
    latencyMs?: number;
    answer?: Answer;
  } = {},
) {
  const clock = new FakeClock();
  const budget = options.budget?.(clock) ?? unlimited;
  const reply = new FakeReply({
    clock,
    budget,
    maxChars: options.maxChars,
    latencyMs: options.latencyMs,
    answer: options.answer,
  });
  return { clock, reply };
}

/** Texts the message `id` showed, in order (successful requests only). */
const shownIn = (reply: FakeReply, id: string) =>
  reply.log.filter((s) => s.id === id && s.outcome === "ok").map((s) => s.text);

describe("renderByEditing", () => {
  it("grows the reply in place: a cursor on every intermediate text, the exact answer at the end", async () => {
    const { clock, reply } = setup();
    const text = prose(700, 2);
    const deltas = words(text);
    const result = await clock.run(renderByEditing(fakeModel(clock, deltas), reply, { clock }));

    expect(reply.texts).toEqual([text]);
    expect(result.text).toBe(text);
    expect(result.error).toBeUndefined();
    const shown = shownIn(reply, "m1");
    expect(shown[0]).toBe(CURSOR); // the placeholder, posted before the first token
    expect(reply.log[0]?.at).toBe(0);
    const intermediate = shown.slice(0, -1);
    expect(intermediate.length).toBeGreaterThan(5);
    let previous = -1;
    for (const t of intermediate) {
      expect(t.endsWith(CURSOR)).toBe(true);
      const visible = t.slice(0, -CURSOR.length);
      expect(text.startsWith(visible)).toBe(true);
      expect(visible.length).toBeGreaterThan(previous); // never the same text twice, never going back
      previous = visible.length;
    }
    expect(shown.at(-1)).toBe(text);
    expect(reply.maxInFlight).toBe(1);
    expect(result.edits).toBe(shown.length - 1);
    expect(result.messages).toEqual([{ id: "m1" }]);
  });

  it("sends the final edit as soon as the stream ends, not at the next tick", async () => {
    const { clock, reply } = setup({ latencyMs: 100 });
    const deltas = words(prose(300, 4));
    const firstMs = 300;
    const everyMs = 70;
    await clock.run(renderByEditing(fakeModel(clock, deltas, { firstMs, everyMs }), reply, { clock }));
    const lastTokenAt = firstMs + everyMs * (deltas.length - 1);
    const final = reply.log.at(-1);
    // At most one request was in flight when the last token came: it is sent within one latency.
    expect(final?.at).toBeGreaterThanOrEqual(lastTokenAt);
    expect(final?.at).toBeLessThanOrEqual(lastTokenAt + 100);
    expect(final?.text.includes(CURSOR)).toBe(false);
  });

  it("batches tokens: a slow platform gets a few large edits, not one per token", async () => {
    const { clock, reply } = setup({ latencyMs: 500 });
    const text = prose(2_000, 9).slice(0, 1_800);
    const deltas = words(text);
    const result = await clock.run(
      renderByEditing(fakeModel(clock, deltas, { everyMs: 20 }), reply, { clock }),
    );
    expect(reply.texts).toEqual([text]);
    expect(deltas.length).toBeGreaterThan(200);
    // The stream lasts ~deltas*20 ms; one request per 500 ms fits in that.
    expect(result.edits).toBeLessThanOrEqual(Math.ceil((deltas.length * 20) / 500) + 2);
  });

  it("posts a custom placeholder, or nothing until the first token", async () => {
    const custom = setup();
    await custom.clock.run(
      renderByEditing(fakeModel(custom.clock, ["Hi", " there"]), custom.reply, {
        clock: custom.clock,
        placeholder: "_Thinking…_",
      }),
    );
    expect(shownIn(custom.reply, "m1")[0]).toBe("_Thinking…_");
    expect(custom.reply.texts).toEqual(["Hi there"]);

    const none = setup();
    await none.clock.run(
      renderByEditing(fakeModel(none.clock, ["Hi", " there"], { firstMs: 400 }), none.reply, {
        clock: none.clock,
        placeholder: null,
        cursor: " ●",
      }),
    );
    const first = none.reply.log[0];
    expect(first?.at).toBe(400);
    expect(first?.text).toBe("Hi ●");
    expect(none.reply.texts).toEqual(["Hi there"]);
  });

  it("keeps to a Discord-like budget (5 per 5 s) and still ends exactly", async () => {
    const { clock, reply } = setup({ budget: (c) => new TokenBucket({ edits: 5, perMs: 5_000, clock: c }) });
    const text = prose(1_500, 5);
    const deltas = words(text);
    await clock.run(renderByEditing(fakeModel(clock, deltas, { everyMs: 80 }), reply, { clock }));
    expect(reply.texts).toEqual([text]);
    expect(deltas.length * 80).toBeGreaterThan(15_000);
    expect(
      maxInWindow(
        reply.log.map((s) => s.at),
        5_000,
      ),
    ).toBeLessThanOrEqual(5);
    // The budget keeps one request for the end: the final edit does not wait for a refill.
    const lastTokenAt = 300 + 80 * (deltas.length - 1);
    expect(reply.log.at(-1)?.at).toBeLessThanOrEqual(lastTokenAt + 100);
    for (const t of reply.intermediateTexts()) expect(t.endsWith(CURSOR)).toBe(true);
  });

  it("sends the final edit as soon as an exhausted budget allows", async () => {
    const { clock, reply } = setup({
      budget: (c) => new TokenBucket({ edits: 2, perMs: 10_000, clock: c, reserved: 0, marginMs: 0 }),
    });
    const text = prose(400, 6);
    await clock.run(renderByEditing(fakeModel(clock, words(text), { everyMs: 40 }), reply, { clock }));
    // Placeholder at 0, first text when the first token came, then nothing until 10 s.
    expect(reply.log.map((s) => s.at)).toEqual([0, 300, 10_000]);
    expect(reply.texts).toEqual([text]);
  });

  it("honours a 429: waits Retry-After, then sends the held text; nothing lost or out of order", async () => {
    const { clock, reply } = setup({
      budget: (c) => new TokenBucket({ edits: 50, perMs: 60_000, clock: c }),
      answer: ({ n }) => (n === 3 ? { retryAfterMs: 2_000 } : "ok"),
    });
    const text = prose(900, 8);
    const result = await clock.run(renderByEditing(fakeModel(clock, words(text)), reply, { clock }));
    const limited = reply.log[3];
    expect(limited?.outcome).toBe("429");
    expect(reply.log[4]?.at).toBeGreaterThanOrEqual((limited?.doneAt ?? 0) + 2_000);
    expect(result.rateLimited).toBe(1);
    expect(reply.texts).toEqual([text]);
    let previous = -1;
    for (const t of shownIn(reply, "m1").slice(1)) {
      const visible = t.endsWith(CURSOR) ? t.slice(0, -1) : t;
      expect(text.startsWith(visible)).toBe(true);
      expect(visible.length).toBeGreaterThan(previous);
      previous = visible.length;
    }
  });

  it("retries a final edit answered 429 until the cursor is gone", async () => {
    let refused = 0;
    const text = "All done here.";
    const { clock, reply } = setup({
      answer: ({ text: sent }) => (sent === text && refused++ < 2 ? { retryAfterMs: 1_500 } : "ok"),
    });
    const result = await clock.run(renderByEditing(fakeModel(clock, words(text)), reply, { clock }));
    expect(refused).toBe(3);
    expect(result.rateLimited).toBe(2);
    expect(reply.texts).toEqual([text]);
  });

  it.each([2, 10])(
    "runs %i streams on one budget: each ends exact, the budget holds, turns are fair",
    async (count) => {
      const clock = new FakeClock();
      const budget = new TokenBucket({ edits: 5, perMs: 5_000, clock });
      const streams = Array.from({ length: count }, (_, i) => {
        // Same number of tokens each, so a fair budget gives each the same number of requests.
        const deltas = words(prose(2_000, 20 + i)).slice(0, 220);
        const text = deltas.join("");
        const reply = new FakeReply({ clock, budget, idPrefix: `s${i}-` });
        const done = renderByEditing(fakeModel(clock, deltas, { everyMs: 60 }), reply, { clock });
        return { text, reply, done };
      });
      await clock.run(Promise.all(streams.map((s) => s.done)));
      const all = streams.flatMap((s) => s.reply.log.map((l) => l.at));
      expect(maxInWindow(all, 5_000)).toBeLessThanOrEqual(5);
      for (const s of streams) {
        expect(s.reply.texts).toEqual([s.text]);
        expect(s.reply.maxInFlight).toBe(1);
        for (const t of s.reply.intermediateTexts()) expect(t.endsWith(CURSOR)).toBe(true);
      }
      const requests = streams.map((s) => s.reply.log.length);
      expect(Math.max(...requests) - Math.min(...requests)).toBeLessThanOrEqual(2);
      // Everyone saw text before the end, not only the first streams.
      for (const s of streams) expect(s.reply.intermediateTexts().some((t) => t.length > 1)).toBe(true);
    },
  );

  it("runs 200 streams across 20 channels: every reply exact, no channel over its limit", async () => {
    const clock = new FakeClock();
    const budgets = new EditBudgets({ edits: 5, perMs: 5_000, clock });
    const streams = Array.from({ length: 200 }, (_, i) => {
      const channel = `c${i % 20}`;
      const deltas = words(prose(300 + (i % 7) * 400, 100 + i));
      const reply = new FakeReply({
        clock,
        budget: budgets.get(channel),
        idPrefix: `${i}-`,
        maxChars: 2_000,
      });
      const model = fakeModel(clock, deltas, { firstMs: 100 + (i % 13) * 50, everyMs: 20 + (i % 5) * 10 });
      return { channel, text: deltas.join(""), reply, done: renderByEditing(model, reply, { clock }) };
    });
    await clock.run(Promise.all(streams.map((s) => s.done)));
    for (const s of streams) expect(s.reply.texts).toEqual(splitMessage(s.text, 2_000));
    for (let c = 0; c < 20; c++) {
      const sent = streams.filter((s) => s.channel === `c${c}`).flatMap((s) => s.reply.log.map((l) => l.at));
      expect(maxInWindow(sent, 5_000)).toBeLessThanOrEqual(5);
    }
  });

  it.each([2_000, 4_000])(
    "continues a long answer in new messages at %i chars, fences closed and reopened",
    async (maxChars) => {
      const { clock, reply } = setup({ maxChars });
      const code = Array.from({ length: Math.ceil(maxChars / 25) }, (_, i) => `x${i} = f(${i})`).join("\n");
      const text = `${prose(maxChars * 0.8, 3)}\n\n\`\`\`python\n${code}\n\`\`\`\n\n${prose(maxChars * 0.7, 4)}`;
      const result = await clock.run(
        renderByEditing(fakeModel(clock, words(text), { everyMs: 10 }), reply, { clock }),
      );
      const expected = splitMessage(text, maxChars);
      expect(expected.length).toBeGreaterThanOrEqual(3);
      expect(reply.texts).toEqual(expected);
      expect(result.messages.length).toBe(expected.length);
      expect(result.text).toBe(text);
      for (const s of reply.log) expect(s.text.length).toBeLessThanOrEqual(maxChars);
      expect(reply.log.some((s) => s.text.endsWith(`${CURSOR}\n\`\`\``))).toBe(true);
      expect(reply.maxInFlight).toBe(1);
    },
  );

  it("cuts streamed emoji where splitMessage cuts the whole text, though deltas split ZWJ sequences", async () => {
    const { clock, reply } = setup({ maxChars: 500 });
    const text = "👩‍👩‍👧‍👦👨🏽‍💻🇫🇷".repeat(120);
    const deltas = Array.from(text); // one code point each: sequences arrive in pieces
    await clock.run(
      renderByEditing(fakeModel(clock, deltas, { everyMs: 1 }), reply, { clock, placeholder: null }),
    );
    expect(reply.texts).toEqual(splitMessage(text, 500));
    for (const s of reply.log) {
      const last = s.text.replace(/▌$/, "").charCodeAt(s.text.replace(/▌$/, "").length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
  });

  it("keeps half-written Markdown from breaking: open fences, inline code and bold are closed", async () => {
    const { clock, reply } = setup({ latencyMs: 10 });
    const deltas = [
      "Try **this",
      " one",
      "** and `x",
      " = 1`.\n\n",
      "``",
      "`py",
      "thon\n",
      "print(1)",
      "\n",
      "```",
      "\nDone.",
    ];
    await clock.run(renderByEditing(fakeModel(clock, deltas, { everyMs: 100 }), reply, { clock }));
    const shown = shownIn(reply, "m1");
    expect(shown).toContain(`Try **this${CURSOR}**`);
    expect(shown).toContain(`Try **this one** and \`x${CURSOR}\``);
    expect(shown).toContain(`Try **this one** and \`x = 1\`.\n\n\`\`\`python\nprint(1)${CURSOR}\n\`\`\``);
    // A half-typed fence line is held back until its line is complete.
    for (const t of shown) expect(t).not.toMatch(/`{1,3}(p|py|python)?▌/);
    expect(reply.texts).toEqual([deltas.join("")]);
  });
});
