import { describe, expect, it } from "vitest";
import { ModelError, NetworkError, TimeoutError } from "../../src/errors.js";
import {
  type RenderOptions,
  renderByEditing,
  splitMessage,
  TokenBucket,
  UNFINISHED_NOTE,
} from "../../src/stream/index.js";
import { type Answer, FakeClock, FakeReply, fakeModel, prose, unlimited, words } from "./fakes.js";

const CURSOR = "▌";
const TIMEOUT_WARNING = "⚠️ The model stopped responding. Please try again.";

function setup(answer?: Answer, maxChars?: number) {
  const clock = new FakeClock();
  const reply = new FakeReply({ clock, budget: unlimited, answer, maxChars });
  return { clock, reply };
}

/** No message the user can see ends with (or holds) a cursor. */
function expectNoCursorLeft(reply: FakeReply): void {
  for (const text of reply.texts) expect(text).not.toContain(CURSOR);
}

/** A model that yields `deltas` then hangs until aborted, as a stalled stream does. */
async function* stalling(clock: FakeClock, deltas: string[], signal: AbortSignal): AsyncGenerator<string> {
  for (const d of deltas) {
    await clock.sleep(50);
    yield d;
  }
  await clock.sleep(3_600_000, signal);
}

describe("renderByEditing when things go wrong", () => {
  it("model fails mid-stream: the text so far, then the warning line", async () => {
    const { clock, reply } = setup();
    const deltas = words("The answer starts well and then");
    const error = new TimeoutError("idle for 60 s");
    const result = await clock.run(
      renderByEditing(fakeModel(clock, deltas, { failAfter: 4, error }), reply, { clock }),
    );
    const partial = deltas.slice(0, 4).join("");
    expect(reply.texts).toEqual([`${partial}\n\n${TIMEOUT_WARNING}`]);
    expect(result.error).toBe(error);
    expect(result.text).toBe(partial);
    expectNoCursorLeft(reply);
  });

  it("says on the answer's last message whether it ended early, so feedback asks only of whole answers", async () => {
    const finished = setup();
    await finished.clock.run(
      renderByEditing(fakeModel(finished.clock, words("A whole answer")), finished.reply, {
        clock: finished.clock,
      }),
    );
    expect(finished.reply.log.at(-1)?.update).toEqual({ final: true, last: true });

    const failed = setup();
    const error = new TimeoutError("idle for 60 s");
    await failed.clock.run(
      renderByEditing(
        fakeModel(failed.clock, words("Half of an answer"), { failAfter: 2, error }),
        failed.reply,
        {
          clock: failed.clock,
        },
      ),
    );
    expect(failed.reply.log.at(-1)?.update).toEqual({ final: true, last: true, error: "timeout" });
  });

  it("model fails inside a code block: the block is closed before the warning", async () => {
    const { clock, reply } = setup();
    const deltas = ["Code:\n\n```js\n", "let a = 1;\n", "let b"];
    const result = await clock.run(
      renderByEditing(fakeModel(clock, deltas, { failAfter: 3, error: new NetworkError("reset") }), reply, {
        clock,
      }),
    );
    expect(reply.texts).toEqual([
      "Code:\n\n```js\nlet a = 1;\nlet b\n```\n\n⚠️ The bot could not reach the model. Please try again.",
    ]);
    expect(result.error?.code).toBe("network");
  });

  it("model fails before any token: the placeholder becomes the warning", async () => {
    const { clock, reply } = setup();
    const error = new ModelError("500 from upstream");
    const result = await clock.run(
      renderByEditing(fakeModel(clock, ["never"], { failAfter: 0, error }), reply, { clock }),
    );
    expect(reply.texts).toEqual(["⚠️ The model failed to answer. Please try again."]);
    expect(result.text).toBe("");
    expect(result.error).toBe(error);
  });

  it("model fails before any token without a placeholder: the warning is posted", async () => {
    const { clock, reply } = setup();
    const options: RenderOptions = { clock, placeholder: null, warningFor: (e) => `Oops: ${e.code}` };
    await clock.run(
      renderByEditing(
        fakeModel(clock, ["x"], { failAfter: 0, error: new ModelError("boom") }),
        reply,
        options,
      ),
    );
    expect(reply.log.map((s) => s.kind)).toEqual(["post"]);
    expect(reply.texts).toEqual(["Oops: model_error"]);
  });

  it("a thrown non-ChatError is shown as a model failure", async () => {
    const { clock, reply } = setup();
    async function* broken(): AsyncGenerator<string> {
      yield "Half";
      throw new TypeError("socket hang up");
    }
    const result = await clock.run(renderByEditing(broken(), reply, { clock }));
    expect(reply.texts).toEqual(["Half\n\n⚠️ The model failed to answer. Please try again."]);
    expect(result.error?.code).toBe("model_error");
  });

  it("abort mid-stream: ends cleanly with the text so far and a note, and stops the model", async () => {
    const { clock, reply } = setup();
    const abort = new AbortController();
    const model = stalling(clock, ["Partial", " answer"], abort.signal);
    const rendering = renderByEditing(model, reply, { clock, signal: abort.signal });
    await clock.run(clock.sleep(1_000));
    abort.abort();
    const result = await clock.run(rendering);
    expect(reply.texts).toEqual(["Partial answer\n\n_Stopped._"]);
    expect(result.error?.code).toBe("aborted");
    expect(result.text).toBe("Partial answer");
    expect(await model.next()).toEqual({ done: true, value: undefined });
  });

  it("abort before any token, and an already aborted signal, show only the note", async () => {
    const a = setup();
    const abort = new AbortController();
    const rendering = renderByEditing(stalling(a.clock, [], abort.signal), a.reply, {
      clock: a.clock,
      signal: abort.signal,
    });
    await a.clock.run(a.clock.sleep(500));
    abort.abort();
    await a.clock.run(rendering);
    expect(a.reply.texts).toEqual(["_Stopped._"]);

    const b = setup();
    const result = await b.clock.run(
      renderByEditing(fakeModel(b.clock, ["never"]), b.reply, {
        clock: b.clock,
        signal: AbortSignal.abort(),
        placeholder: null,
      }),
    );
    expect(b.reply.texts).toEqual(["_Stopped._"]);
    expect(result.error?.code).toBe("aborted");
  });

  it("abort while waiting for the budget: the final edit goes first when the budget allows", async () => {
    const clock = new FakeClock();
    const budget = new TokenBucket({ edits: 2, perMs: 10_000, clock, reserved: 0, marginMs: 0 });
    const reply = new FakeReply({ clock, budget });
    const abort = new AbortController();
    const rendering = renderByEditing(stalling(clock, words("one two three four"), abort.signal), reply, {
      clock,
      signal: abort.signal,
    });
    await clock.run(clock.sleep(3_000));
    abort.abort();
    await clock.run(rendering);
    expect(reply.texts).toEqual(["one two three four\n\n_Stopped._"]);
    expect(reply.log.at(-1)?.at).toBe(10_000);
  });

  it("the model ends without text: no cursor is left, a short note instead", async () => {
    const { clock, reply } = setup();
    const result = await clock.run(renderByEditing(fakeModel(clock, []), reply, { clock }));
    expect(reply.texts).toEqual(["_(no answer)_"]);
    expect(result.error).toBeUndefined();
  });

  it("an edit fails (not 429): stops, reports platformError, and leaves the message without a cursor", async () => {
    const failure = new Error("500 Internal Server Error");
    let failed = false;
    const { clock, reply } = setup(({ kind, n }) => {
      if (kind === "edit" && n >= 3 && !failed) {
        failed = true;
        return failure;
      }
      return "ok";
    });
    const deltas = words(prose(600, 12));
    const model = fakeModel(clock, deltas);
    const result = await clock.run(renderByEditing(model, reply, { clock }));
    expect(result.platformError).toBe(failure);
    expect(reply.texts).toHaveLength(1);
    const [final] = reply.texts;
    expect(final?.endsWith(`\n\n${UNFINISHED_NOTE}`)).toBe(true);
    expect(deltas.join("").startsWith(final?.slice(0, -UNFINISHED_NOTE.length - 2) ?? "?")).toBe(true);
    expectNoCursorLeft(reply);
    // The model is not read any further.
    expect(result.text.length).toBeLessThan(deltas.join("").length);
    expect(await model.next()).toEqual({ done: true, value: undefined });
  });

  it("an edit fails and so does the last try: the result says so and nothing hangs", async () => {
    const failure = new Error("403 Missing Access");
    const { clock, reply } = setup(({ kind }) => (kind === "edit" ? failure : "ok"));
    const result = await clock.run(renderByEditing(fakeModel(clock, words("a b c d e f")), reply, { clock }));
    expect(result.platformError).toBe(failure);
    expect(reply.log.filter((s) => s.kind === "edit").length).toBe(2);
  });

  it("the first post fails: platformError, no message, no cursor anywhere", async () => {
    const failure = new Error("Missing Permissions");
    const { clock, reply } = setup(({ kind }) => (kind === "post" ? failure : "ok"));
    const result = await clock.run(renderByEditing(fakeModel(clock, words("hello there")), reply, { clock }));
    expect(result.platformError).toBe(failure);
    expect(result.messages).toEqual([]);
    expect(reply.texts).toEqual([]);
  });

  it("a continuation post fails after a split: earlier messages stay finished", async () => {
    const failure = new Error("boom");
    const { clock, reply } = setup(({ kind, n }) => (kind === "post" && n > 0 ? failure : "ok"), 500);
    const text = prose(1_400, 13);
    const result = await clock.run(
      renderByEditing(fakeModel(clock, words(text), { everyMs: 5 }), reply, { clock }),
    );
    expect(result.platformError).toBe(failure);
    expect(reply.texts).toEqual([splitMessage(text, 500)[0]]);
    expectNoCursorLeft(reply);
  });

  it("an error after a split ends the last message with the warning, all within maxChars", async () => {
    const { clock, reply } = setup(undefined, 500);
    const deltas = words(prose(1_300, 14));
    const error = new TimeoutError("idle");
    const result = await clock.run(
      renderByEditing(fakeModel(clock, deltas, { failAfter: deltas.length - 3, error }), reply, { clock }),
    );
    const expected = splitMessage(`${result.text}\n\n${TIMEOUT_WARNING}`, 500);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(reply.texts).toEqual(expected);
    expectNoCursorLeft(reply);
  });
});
