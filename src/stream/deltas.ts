import { abortableNext } from "../abortable.js";
import { AbortedError, ChatError, toChatError } from "../errors.js";
import type { StreamItem } from "./types.js";

/**
 * Reads a model's delta stream into memory for the renderer. A delta costs O(1)
 * however long the answer grows: chunks are joined only when the renderer asks
 * for the text, which it does once per request, not once per delta.
 */
export class DeltaReader {
  /** The stream ended: normally, with a model error, or aborted. */
  done = false;
  /** Why it ended, when not normally. */
  error: ChatError | undefined;
  /** Resolves when the stream ends. */
  readonly ended: Promise<"done">;
  /** Resolves at the first non-empty delta, or when the stream ends. */
  readonly started: Promise<"done">;
  /** Resolves when the model said it is done (an Answered item), or when the stream ends. */
  readonly settling: Promise<"done">;
  /** When the model said it is done (clock ms), before the stream ended. */
  answeredAt: number | undefined;
  /** Lines to show under the finished answer (Notice items), in order. */
  readonly notices: string[] = [];
  /** Tool calls running now (ToolStatus items), by call id: their names. */
  private readonly tools = new Map<string, string>();
  private chunks: string[] = [];
  private iterator: AsyncIterator<StreamItem> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private resolveEnded!: (value: "done") => void;
  private resolveStarted!: (value: "done") => void;
  private resolveSettling!: (value: "done") => void;

  constructor(
    private readonly deltas: AsyncIterable<StreamItem>,
    private readonly signal: AbortSignal | undefined,
    private readonly now: () => number,
  ) {
    this.settling = new Promise((resolve) => {
      this.resolveSettling = resolve;
    });
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    this.started = new Promise((resolve) => {
      this.resolveStarted = resolve;
    });
  }

  /** Whether any text arrived. */
  get hasText(): boolean {
    return this.chunks.length > 0;
  }

  /** While tools run: the line that says so ("🔧 get-sum…"); undefined otherwise. */
  get status(): string | undefined {
    if (this.tools.size === 0 || this.done) return undefined;
    return `🔧 ${[...new Set(this.tools.values())].join(", ")}…`;
  }

  /** The text so far. */
  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join("")];
    return this.chunks[0] ?? "";
  }

  /** Resolves at the next delta or at the end. One waiter at a time (the renderer's loop). */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Reads until the stream ends or `stop()`; never rejects. */
  async read(): Promise<void> {
    const signal = this.signal;
    if (signal?.aborted) return this.finish(aborted(signal));
    let next: ReturnType<typeof abortableNext<StreamItem>> | undefined;
    try {
      const iterator = this.deltas[Symbol.asyncIterator]();
      this.iterator = iterator;
      next = signal ? abortableNext(iterator, signal) : undefined;
      for (;;) {
        const result = next ? await next() : await iterator.next();
        if (this.stopped) return;
        if (result.done) return this.finish(undefined);
        const item = result.value;
        if (typeof item !== "string") {
          if (item.type === "notice") this.notices.push(item.text);
          else if (item.type === "tool") this.toolStatus(item.callId, item.name, item.status === "started");
          else if (item.type === "answered" && this.answeredAt === undefined) {
            this.answeredAt = this.now();
            this.resolveSettling("done");
            this.notify();
          }
        } else if (item.length > 0) {
          if (this.chunks.length === 0) this.resolveStarted("done");
          this.chunks.push(item);
          this.notify();
        }
      }
    } catch (err) {
      if (this.stopped) return;
      // Aborted while waiting: the model's stream is closed here, since it may not notice.
      if (signal?.aborted) this.close();
      this.finish(signal?.aborted ? aborted(signal, err) : toChatError(err));
    } finally {
      next?.close();
    }
  }

  /** Stops reading and closes the model's stream (the platform failed: nobody would see more). */
  stop(): void {
    this.stopped = true;
    this.close();
  }

  private toolStatus(callId: string, name: string, running: boolean): void {
    if (running) this.tools.set(callId, name);
    else this.tools.delete(callId);
    this.notify();
  }

  private finish(error: ChatError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.notify();
    this.resolveEnded("done");
    this.resolveStarted("done");
    this.resolveSettling("done");
  }

  private notify(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake();
    }
  }

  private close(): void {
    const iterator = this.iterator;
    this.iterator = undefined;
    if (iterator?.return) Promise.resolve(iterator.return()).catch(() => {});
  }
}

/** Why the stream was aborted: the ChatError the signal carries (e.g. ShutdownError), else AbortedError. */
function aborted(signal: AbortSignal, cause: unknown = signal.reason): ChatError {
  return signal.reason instanceof ChatError ? signal.reason : new AbortedError(undefined, cause);
}
