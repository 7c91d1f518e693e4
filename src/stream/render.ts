import type { ChatError } from "../errors.js";
import { systemClock } from "./clock.js";
import { DeltaReader } from "./deltas.js";
import { closeEarly, defaultWarning, finalText, withNotices } from "./final.js";
import type { OpenFence } from "./markdown.js";
import { halfWritten, memoized } from "./shown.js";
import { type Cut, cutAt, markdownRoom, type Render, restFits } from "./split.js";
import type {
  Clock,
  EditableReply,
  EditBudget,
  EditPriority,
  MessageRef,
  RenderOptions,
  RenderResult,
  StreamItem,
  Update,
} from "./types.js";

export const DEFAULT_CURSOR = "▌";

/**
 * Shows a stream of text deltas by posting a message and editing it with the
 * tokens that arrived since the last request. One request at a time per reply,
 * each drawn from `reply.budget`; intermediate texts end with the cursor; the
 * final text is exactly `finalText(...)` split by `splitMessage` at
 * `reply.maxChars` of rendered text, each part sent as `reply.render` writes it.
 * A PlatformRateLimitError pauses the budget and the held text is sent later.
 * Model errors and aborts end the message with a warning line.
 */
export function renderByEditing(
  deltas: AsyncIterable<StreamItem>,
  reply: EditableReply,
  options: RenderOptions = {},
): Promise<RenderResult> {
  return new Renderer(deltas, reply, options).run();
}

interface Request {
  /** The platform's text (rendered). */
  text: string;
  /** An intermediate text cut short to fit: the rest needs another message. */
  heldBack?: boolean;
  /** For an intermediate text: the Markdown it shows without the cursor (see Update). */
  settled?: string;
  /** The message is finished by this request and the rest continues in a new one. */
  cut?: Cut;
  /** The last request of the reply. */
  last?: boolean;
  /** Shows no model text yet. */
  placeholder?: boolean;
  /** Shows a tool's status line. */
  status?: boolean;
}

class Renderer {
  private readonly cursor: string;
  private readonly placeholder: string | null;
  private readonly clock: Clock;
  private readonly model: DeltaReader;
  private final: string | undefined;
  private readonly warningFor: (err: ChatError) => string;
  private readonly emptyText: string;
  private readonly after: Promise<unknown> | undefined;
  private readonly answeredWaitMs: number;
  private readonly maxChars: number;
  private readonly render: Render | undefined;
  /** markdownRoom of the message being written, once known (it does not change as text grows). */
  private room: { start: number; value: number } | undefined;
  /** The message being written was held back to fit: what it shows until its cut (the text only grows). */
  private heldBack: { start: number; request: Request } | undefined;

  // The platform side: the message being written starts at `start` in the text,
  // after `prefix` (a reopened code fence).
  private ref: MessageRef | undefined;
  private start = 0;
  private prefix = "";
  private fence: OpenFence | undefined;
  private sent: string | undefined;
  private finished = false;
  private textShown = false;
  /** The message shows a tool's status line now. */
  private statusShown = false;
  private readonly messages: MessageRef[] = [];
  private edits = 0;
  private rateLimited = 0;
  private platformError: unknown;
  private postFailed = false;

  constructor(
    deltas: AsyncIterable<StreamItem>,
    private readonly reply: EditableReply,
    options: RenderOptions,
  ) {
    this.cursor = options.cursor ?? DEFAULT_CURSOR;
    const placeholder = options.placeholder === undefined ? this.cursor : options.placeholder;
    this.placeholder = placeholder === "" ? null : placeholder;
    this.clock = options.clock ?? systemClock;
    this.model = new DeltaReader(deltas, options.signal, () => this.clock.now());
    if (options.onStarted) void this.model.started.then(options.onStarted);
    this.warningFor = options.warningFor ?? defaultWarning;
    this.emptyText = options.emptyText ?? "_(no answer)_";
    this.after = options.after;
    this.answeredWaitMs = options.answeredWaitMs ?? 1_000;
    this.maxChars = reply.maxChars;
    this.render = reply.render
      ? memoized((markdown) => (reply.render as Render).call(reply, markdown))
      : undefined;
  }

  private rendered(markdown: string): string {
    return this.render ? this.render(markdown) : markdown;
  }

  async run(): Promise<RenderResult> {
    void this.model.read();
    // A previous answer's failure is its own; this one only waits for it to end.
    if (this.after) await this.after.catch(() => {});
    while (!this.finished) {
      const holdMs = this.holdForEnd();
      if (holdMs > 0) {
        await this.untilEnd(holdMs);
        continue;
      }
      if (!this.plan()) {
        if (this.model.done) break;
        await this.model.changed();
        continue;
      }
      if (!(await this.acquire())) continue;
      // Planned again: tokens that arrived while waiting go out in this request.
      const request = this.plan();
      if (request && !(await this.send(request))) break;
    }
    return {
      text: this.model.text(),
      messages: this.messages,
      edits: this.edits,
      rateLimited: this.rateLimited,
      ...(this.model.error ? { error: this.model.error } : {}),
      ...(this.platformError !== undefined ? { platformError: this.platformError } : {}),
      ...(this.postFailed ? { postFailed: true } : {}),
    };
  }

  /**
   * The model said it is done but the stream has not ended yet: how much
   * longer to send nothing, so the final edit (a request away) is not made
   * to wait behind an intermediate one. 0: go on.
   */
  private holdForEnd(): number {
    const at = this.model.answeredAt;
    if (at === undefined || this.model.done) return 0;
    return Math.max(0, at + this.answeredWaitMs - this.clock.now());
  }

  private async untilEnd(ms: number): Promise<void> {
    const abort = new AbortController();
    await Promise.race([this.model.ended, this.clock.sleep(ms, abort.signal).catch(() => {})]);
    abort.abort();
  }

  private finalDocument(): string {
    this.final ??= withNotices(
      finalText(this.model.text(), this.model.error, this.warningFor, this.emptyText),
      this.model.notices,
    );
    return this.final;
  }

  /** The next request to send with what is known now, or undefined when the platform is up to date. */
  private plan(): Request | undefined {
    const done = this.model.done;
    const text = done ? this.finalDocument() : this.model.text();
    if (done) {
      if (!restFits(text, this.start, this.prefix, this.maxChars, this.render)) return this.cut(text, true);
      const last = this.rendered(this.prefix + text.slice(this.start));
      if (this.ref && last === this.sent) {
        this.finished = true;
        return undefined;
      }
      return { text: last, last: true };
    }
    const status = this.model.status;
    if (text.length === 0) {
      // A tool runs before any text: its line is the message until text comes (then the placeholder again).
      if (status || this.statusShown) {
        const shown = this.rendered(status ? `${status}${this.cursor}` : (this.placeholder ?? this.cursor));
        return shown === this.sent
          ? undefined
          : { text: shown, settled: "", placeholder: true, status: !!status };
      }
      return this.ref || this.messages.length > 0 || this.placeholder === null
        ? undefined
        : { text: this.rendered(this.placeholder), settled: "", placeholder: true };
    }
    let shown: (Request & { heldBack?: boolean }) | undefined =
      this.heldBack?.start === this.start ? this.heldBack.request : undefined;
    shown ??= {
      ...halfWritten(this.prefix + text.slice(this.start), this.cursor, this.maxChars, this.render, status),
      status: !!status,
    };
    if (shown.heldBack) this.heldBack = { start: this.start, request: shown };
    // Held back to fit: the rest does not fit this message. Cut only once the text decides
    // where, so the cut is the one splitMessage makes of the finished text.
    if (shown.heldBack) {
      const cut = this.cut(text, false);
      if (cut) return cut;
    }
    return shown.text === this.sent ? undefined : shown;
  }

  /** The request that closes the current message at its cut, once the cut is known. */
  private cut(text: string, complete: boolean): Request | undefined {
    let room = this.room?.start === this.start ? this.room.value : undefined;
    room ??= markdownRoom(text, this.start, this.prefix, this.maxChars, this.render, complete);
    if (room === undefined) return undefined;
    this.room = { start: this.start, value: room };
    const cut = cutAt(text, this.start, this.prefix, this.fence, this.maxChars, this.render, complete, room);
    if (!cut) return undefined;
    return { text: this.rendered(this.prefix + text.slice(this.start, cut.end) + cut.suffix), cut };
  }

  private priority(): EditPriority {
    if (this.model.done) return "final";
    if (this.textShown) return "normal";
    // The first text tells the user the answer has started: it goes before other
    // streams' edits. A placeholder does not, so it never takes a reserved request.
    return this.model.hasText ? "first" : "normal";
  }

  /** Posts draw on the reply's post budget when it has one; edits on its (edit) budget. */
  private budgetFor(post: boolean): EditBudget {
    return post ? (this.reply.postBudget ?? this.reply.budget) : this.reply.budget;
  }

  /**
   * Waits for the budget; false when it gave up waiting because the model
   * said it is done (the final edit is due instead). A stream whose request
   * becomes more urgent while it waits (its first text arrived, or it ended)
   * asks again at the new priority.
   */
  private async acquire(): Promise<boolean> {
    const budget = this.budgetFor(this.ref === undefined);
    for (;;) {
      const priority = this.priority();
      if (priority === "final") {
        await budget.acquire(undefined, "final");
        return true;
      }
      const abort = new AbortController();
      const grant = budget.acquire(abort.signal, priority).then(
        () => "granted" as const,
        () => "cancelled" as const,
      );
      const upgrade =
        priority === "normal" && !this.textShown
          ? this.model.started
          : this.model.answeredAt === undefined
            ? this.model.settling
            : this.model.ended;
      // "cancelled" here means the budget failed on its own: send rather than hang.
      if ((await Promise.race([grant, upgrade])) !== "done") return true;
      abort.abort();
      if ((await grant) === "granted") return true;
      if (this.holdForEnd() > 0) return false;
    }
  }

  /** Sends one request; false when the platform failed and rendering stopped. */
  private async send(request: Request): Promise<boolean> {
    const post = this.ref === undefined;
    const update: Update =
      request.settled !== undefined
        ? { final: false, settled: request.settled }
        : request.last
          ? { final: true, last: true, ...(this.model.error ? { error: this.model.error.code } : {}) }
          : { final: true };
    try {
      if (this.ref) {
        await this.reply.edit(this.ref, request.text, update);
        this.edits++;
      } else {
        this.ref = await this.reply.post(request.text, update);
        this.messages.push(this.ref);
      }
    } catch (err) {
      if (isRateLimit(err)) {
        await this.rateLimitedFor(err.retryAfterMs, post);
        return true;
      }
      await this.fail(err);
      return false;
    }
    this.sent = request.text;
    this.statusShown = request.status === true;
    if (!request.placeholder) this.textShown = true;
    if (request.cut) {
      this.start = request.cut.end;
      this.prefix = request.cut.nextPrefix;
      this.fence = request.cut.fence;
      this.ref = undefined;
      this.sent = undefined;
    } else if (request.last) {
      this.finished = true;
    }
    return true;
  }

  private async rateLimitedFor(retryAfterMs: number, post: boolean): Promise<void> {
    this.rateLimited++;
    this.budgetFor(post).pause(retryAfterMs);
    // Also wait here: a budget that ignores pause() must not make us hammer the platform.
    await this.clock.sleep(retryAfterMs);
  }

  /** A post or edit failed for good: stop the model, try once to leave the message without a cursor. */
  private async fail(err: unknown): Promise<void> {
    this.platformError = err;
    this.model.stop();
    const ref = this.ref;
    // A failed post leaves no message with a cursor: earlier ones were finished.
    if (!ref) {
      this.postFailed = true;
      return;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.reply.budget.acquire(undefined, "final");
      const text = this.salvage();
      try {
        await this.reply.edit(ref, text, {
          final: true,
          last: true,
          error: this.model.error?.code ?? "platform",
        });
        this.edits++;
        this.sent = text;
        return;
      } catch (retryErr) {
        if (!isRateLimit(retryErr)) return;
        await this.rateLimitedFor(retryErr.retryAfterMs, false);
      }
    }
  }

  /** The current message closed early: its text so far, fences closed, and a note, rendered. */
  private salvage(): string {
    if (this.model.done) {
      const full = this.rendered(this.prefix + this.finalDocument().slice(this.start));
      if (full.length <= this.maxChars) return full;
    }
    return closeEarly(this.prefix + this.model.text().slice(this.start), this.maxChars, this.render);
  }
}

function isRateLimit(err: unknown): err is { retryAfterMs: number } {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { code?: unknown }).code === "platform_rate_limited" &&
    typeof (err as { retryAfterMs?: unknown }).retryAfterMs === "number"
  );
}
