import { AbortedError, ChatError, toChatError } from "../../src/errors.js";
import type { StreamItem } from "../../src/stream/index.js";

/**
 * A model's deltas read once, for renderers that take turns on them: the
 * native stream reads first, and when it has to give up (Slack refused the
 * stream, or ended it early), `from(offset)` hands the rest, from the last
 * character Slack showed, to the edit renderer, so nothing is lost and
 * nothing is shown twice.
 */
export class DeltaTap {
  /** Everything the model sent so far. */
  text = "";
  /** Lines to show under the finished answer (StreamItem notices), in order. */
  readonly notices: string[] = [];
  /** The model's stream ended: normally, with an error, or aborted. */
  done = false;
  /** Why it ended, when not normally. */
  error: ChatError | undefined;
  /** Resolves when the model's stream ends. */
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private waiters: Array<() => void> = [];
  private iterator: AsyncIterator<StreamItem> | undefined;

  constructor(
    deltas: AsyncIterable<StreamItem>,
    private readonly signal?: AbortSignal,
  ) {
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    void this.read(deltas);
  }

  /** Resolves at the next delta, or at the end. */
  changed(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once there is text or the stream has ended. */
  async started(): Promise<void> {
    while (this.text.length === 0 && !this.done) await this.changed();
  }

  /**
   * The text from `offset` on, then what arrives later, and the notices at the
   * end; ends (or throws) as the model's stream does.
   */
  async *from(offset: number): AsyncGenerator<StreamItem, void, undefined> {
    let at = offset;
    for (;;) {
      if (this.text.length > at) {
        const chunk = this.text.slice(at);
        at = this.text.length;
        yield chunk;
        continue;
      }
      if (this.done) {
        for (const text of this.notices) yield { type: "notice", text };
        if (this.error) throw this.error;
        return;
      }
      await this.changed();
    }
  }

  /** Stops reading and closes the model's stream (nobody would see the rest). */
  stop(): void {
    if (this.done) return;
    this.finish(new AbortedError("The reply could not be shown"));
  }

  private async read(deltas: AsyncIterable<StreamItem>): Promise<void> {
    const signal = this.signal;
    const onAbort = () => this.finish(abortReason(signal));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const iterator = deltas[Symbol.asyncIterator]();
      this.iterator = iterator;
      for (;;) {
        const next = await iterator.next();
        if (this.done) return;
        if (next.done) return this.finish(undefined);
        const item = next.value;
        if (typeof item !== "string") {
          if (item.type === "notice") this.notices.push(item.text);
        } else if (item.length > 0) {
          this.text += item;
          this.notify();
        }
      }
    } catch (err) {
      this.finish(signal?.aborted ? abortReason(signal) : toChatError(err));
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private finish(error: ChatError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    if (error) {
      // Aborted: close the model's stream now (the request is cancelled), do not wait for it.
      const iterator = this.iterator;
      this.iterator = undefined;
      if (iterator?.return) Promise.resolve(iterator.return()).catch(() => {});
    }
    this.notify();
    this.resolveEnded();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function abortReason(signal: AbortSignal | undefined): ChatError {
  return signal?.reason instanceof ChatError ? signal.reason : new AbortedError();
}
