import {
  type Clock,
  type EditableReply,
  finalText,
  type MessageRef,
  systemClock,
  withNotices,
} from "../../src/stream/index.js";
import {
  APPEND_EVERY_MS,
  acquireWithin,
  describeError,
  type NativeOptions,
  type NativeResult,
  ROTATE_GRACE_MS,
  STREAM_ROTATE_AFTER_MS,
  stableEnd,
} from "./stream-parts.js";
import { STREAM_GONE } from "./stream-reply.js";
import type { DeltaTap } from "./tap.js";

/** Beyond this share of its room, a message takes whole lines only (so it can end at a break). */
const NEARLY_FULL = 0.8;
/** How many times one request is tried again after Slack answered "rate limited". */
const RATE_LIMIT_RETRIES = 3;

/**
 * Shows a model's answer with Slack's native streaming: chat.startStream at
 * the first text, chat.appendStream with the tokens that arrived since (at
 * most one call in flight, at most one per `appendEveryMs`, each drawn from
 * the workspace's append window as it allows), chat.stopStream with the rest
 * and the final controls. A long answer is stopped and continued in a new
 * stream before Slack would end it. Whenever the stream cannot go on, it
 * returns `handOff`: the point up to which Slack shows the text, for the
 * edit renderer to continue from.
 */
export function renderNatively(tap: DeltaTap, options: NativeOptions): Promise<NativeResult> {
  return new NativeRenderer(tap, options).run();
}

type Outcome =
  | { kind: "done" }
  | { kind: "rotate"; at: number }
  | { kind: "handOff"; at: number; reason: string };
/** What one request to a stream does: add text, end the message (the answer goes on), or end the answer. */
type Step = "append" | "rotate" | "last";

class NativeRenderer {
  private readonly clock: Clock;
  private readonly appendEveryMs: number;
  private readonly rotateAfterMs: number;
  private readonly startWaitMs: number;
  private readonly messages: MessageRef[] = [];
  private appends = 0;
  private rateLimited = 0;
  /** Model offset up to which the current message shows the text. */
  private shown = 0;
  /** Why the last start was refused. */
  private refusal = "";

  constructor(
    private readonly tap: DeltaTap,
    private readonly options: NativeOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.appendEveryMs = options.appendEveryMs ?? APPEND_EVERY_MS;
    this.rotateAfterMs = options.rotateAfterMs ?? STREAM_ROTATE_AFTER_MS;
    this.startWaitMs = options.startWaitMs ?? 1_000;
  }

  private get reply(): EditableReply {
    return this.options.reply;
  }

  async run(): Promise<NativeResult> {
    await this.tap.started();
    // Nothing to stream (a failure before the first token, or an empty answer): edits show it.
    let outcome: Outcome =
      this.tap.text.length === 0 ? { kind: "handOff", at: 0, reason: "no text" } : { kind: "rotate", at: 0 };
    while (outcome.kind === "rotate") {
      const from: number = outcome.at;
      while (!this.tap.done && stableEnd(this.tap.text) <= from) await this.tap.changed();
      if (this.tap.done && from >= this.tap.text.length) {
        // Rotated at the very end: only a warning is left, if anything.
        outcome = this.tap.error ? { kind: "handOff", at: from, reason: "warning" } : { kind: "done" };
        break;
      }
      const ref = await this.start(from);
      outcome = ref ? await this.stream(ref, from) : { kind: "handOff", at: from, reason: this.refusal };
    }
    return {
      text: this.tap.text,
      messages: this.messages,
      appends: this.appends,
      rateLimited: this.rateLimited,
      ...(this.tap.error ? { error: this.tap.error } : {}),
      ...(outcome.kind === "handOff" ? { handOff: { offset: outcome.at, reason: outcome.reason } } : {}),
    };
  }

  /** Starts a message at model offset `from`; undefined (and `refusal` set) when Slack or the budget says no. */
  private async start(from: number): Promise<MessageRef | undefined> {
    if (!(await acquireWithin(this.options.budgets.start, this.startWaitMs, "first", this.clock))) {
      this.refusal = "chat.startStream budget spent";
      return undefined;
    }
    const end = this.fitting(from, this.tap.done ? this.tap.text.length : stableEnd(this.tap.text));
    const markdown = this.tap.text.slice(from, end);
    try {
      const ref = await this.reply.post(this.rendered(markdown), { final: false, settled: markdown });
      this.messages.push(ref);
      this.shown = end;
      if (this.messages.length === 1) this.options.onStarted?.();
      return ref;
    } catch (err) {
      const { slackCode, retryAfterMs } = describeError(err);
      if (retryAfterMs !== undefined) {
        this.rateLimited++;
        this.options.budgets.start.pause(retryAfterMs);
      }
      this.refusal = slackCode;
      return undefined;
    }
  }

  /** Appends to message `ref` (which starts at model offset `from`) until the answer ends or the message must. */
  private async stream(ref: MessageRef, from: number): Promise<Outcome> {
    const softAt = this.clock.now() + this.rotateAfterMs;
    const hardAt = softAt + Math.min(ROTATE_GRACE_MS, this.rotateAfterMs / 2);
    let lastAppendAt = this.clock.now();
    // Rotation waits for text to start the next message with: the answer's last message must
    // be the one that carries the feedback buttons, never one stopped just before the end.
    const rotating = () => {
      const now = this.clock.now();
      return (
        (now >= hardAt && stableEnd(this.tap.text) > this.shown) || (now >= softAt && this.lineEnd() >= 0)
      );
    };
    for (;;) {
      // Wait for new text and this stream's next turn, for the end, or for the time to rotate.
      while (!this.tap.done && !rotating()) {
        const now = this.clock.now();
        const fresh = stableEnd(this.tap.text) > this.shown;
        const due = lastAppendAt + this.appendEveryMs;
        if (fresh && now >= due) break;
        const next = now < softAt ? softAt : now < hardAt ? hardAt : Number.POSITIVE_INFINITY;
        await this.waitUntil(fresh ? Math.min(due, next) : next);
      }
      if (this.tap.done) return this.finish(ref, from);
      if (rotating()) return this.rotate(ref, from, stableEnd(this.tap.text), false);
      if (!(await this.acquireAppend())) continue;
      let end = stableEnd(this.tap.text);
      const fit = this.fitting(from, end);
      if (fit < end) return this.rotate(ref, from, fit, true);
      // Nearly full: append whole lines (else words) only, so the message can end at a break.
      if (this.rendered(this.tap.text.slice(from, end)).length > this.reply.maxChars * NEARLY_FULL) {
        const at = this.breakBefore(end);
        if (at > this.shown) end = at;
      }
      const failed = await this.send(ref, from, end, "append");
      if (failed) return failed;
      lastAppendAt = this.clock.now();
      this.appends++;
    }
  }

  /** Stops message `ref` with the rest of the answer (continuing in new messages while it does not fit). */
  private async finish(ref: MessageRef, from: number): Promise<Outcome> {
    const document = withNotices(finalText(this.tap.text, this.tap.error), this.tap.notices);
    const fit = this.fitting(from, document.length, document);
    if (fit < document.length) return this.rotate(ref, from, Math.min(fit, this.tap.text.length), true);
    await this.options.budgets.stop.acquire(undefined, "final");
    return (await this.send(ref, from, document.length, "last", document)) ?? { kind: "done" };
  }

  /**
   * Stops message `ref` and continues the answer in a new one: before
   * Slack's stream lifetime, or when the message is full. It ends at the last
   * line end before `limit` (the furthest it may go); without one, at `limit`
   * when it is full (`fill`), else where it is (the new message starts with
   * the text not yet shown).
   */
  private async rotate(ref: MessageRef, from: number, limit: number, fill: boolean): Promise<Outcome> {
    const lineEnd = this.lineEnd(limit);
    const at = lineEnd >= 0 ? lineEnd : fill ? Math.max(this.breakBefore(limit), this.shown) : this.shown;
    await this.options.budgets.stop.acquire(undefined, "final");
    return (await this.send(ref, from, at, "rotate")) ?? { kind: "rotate", at };
  }

  /**
   * Sends message `ref` the text from `from` to `end` of `document` (default
   * the model's text). Undefined when Slack took it; else the stream is over
   * and the answer is handed to edits from what Slack shows.
   */
  private async send(
    ref: MessageRef,
    from: number,
    end: number,
    step: Step,
    document = this.tap.text,
  ): Promise<Outcome | undefined> {
    const markdown = document.slice(from, end);
    const error = this.tap.error;
    const update =
      step === "append"
        ? { final: false as const, settled: markdown }
        : step === "rotate"
          ? { final: true as const }
          : { final: true as const, last: true, ...(error ? { error: error.code } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.reply.edit(ref, this.rendered(markdown), update);
        this.shown = Math.min(end, this.tap.text.length);
        return undefined;
      } catch (err) {
        const { slackCode, retryAfterMs } = describeError(err);
        if (retryAfterMs !== undefined && attempt < RATE_LIMIT_RETRIES) {
          this.rateLimited++;
          (step === "append" ? this.options.budgets.append : this.options.budgets.stop).pause(retryAfterMs);
          await this.clock.sleep(retryAfterMs);
          continue;
        }
        await this.close(ref, from, STREAM_GONE.has(slackCode));
        return { kind: "handOff", at: this.shown, reason: slackCode };
      }
    }
  }

  /**
   * Ends message `ref` as it is, after a failure: Slack already did when the
   * stream is gone (the reply then only forgets it, so crash recovery does
   * too); otherwise it is stopped, so it does not look unfinished.
   */
  private async close(ref: MessageRef, from: number, gone: boolean): Promise<void> {
    if (!gone) await this.options.budgets.stop.acquire(undefined, "final");
    const markdown = this.tap.text.slice(from, this.shown);
    await this.reply.edit(ref, this.rendered(markdown), { final: true }).catch(() => undefined);
  }

  /**
   * The offset after the last line break before `end` that the current
   * message may still end at, with text after it to start the next one (so
   * the answer's last message, which carries the feedback buttons, is never
   * an empty one that was not needed); -1: none.
   */
  private lineEnd(end = stableEnd(this.tap.text)): number {
    const newline = this.tap.text.lastIndexOf("\n", end - 2);
    return newline >= 0 && newline + 1 >= this.shown ? newline + 1 : -1;
  }

  /** After the last line break, else the last space, before `end` and not before what is shown; else `end`. */
  private breakBefore(end: number): number {
    const text = this.tap.text;
    for (const mark of ["\n", " "]) {
      const at = text.lastIndexOf(mark, end - 1);
      if (at >= this.shown) return at + 1;
    }
    return end;
  }

  /** An append slot, or false when the answer ended meanwhile (its stop carries the rest). */
  private async acquireAppend(): Promise<boolean> {
    const abort = new AbortController();
    const grant = this.options.budgets.append.acquire(abort.signal, "normal").then(
      () => true,
      () => false,
    );
    const first = await Promise.race([grant, this.tap.ended.then(() => "ended" as const)]);
    if (first !== "ended") return first;
    abort.abort();
    await grant;
    return false;
  }

  /** Resolves at `at` (never, when infinite) or at the model's next delta, whichever comes first. */
  private async waitUntil(at: number): Promise<void> {
    if (!Number.isFinite(at)) return this.tap.changed();
    const abort = new AbortController();
    const timer = this.clock.sleep(Math.max(0, at - this.clock.now()), abort.signal).catch(() => undefined);
    await Promise.race([timer, this.tap.changed()]);
    abort.abort();
  }

  /** The largest end (at most `end`) whose text from `from` fits one message once rendered. */
  private fitting(from: number, end: number, document = this.tap.text): number {
    let fit = end;
    while (fit > from && this.rendered(document.slice(from, fit)).length > this.reply.maxChars) {
      fit = stableEnd(document.slice(0, from + Math.floor((fit - from) * 0.9)));
    }
    return fit;
  }

  private rendered(markdown: string): string {
    return this.reply.render ? this.reply.render(markdown) : markdown;
  }
}
