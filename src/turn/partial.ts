import type { Logger } from "../log.js";
import type { ConversationStore, MessageSlot } from "../memory/index.js";
import type { Turn } from "./types.js";

/**
 * Keeps a streaming answer's text in the store as it grows, so a process
 * killed mid-answer leaves it there, marked incomplete, as a stop would.
 * Writes are coalesced: at most one per `intervalMs` (the newest text at that
 * moment), never two at once, never one after `settle`.
 */
export class PartialAnswerWriter {
  private latest: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private settled = false;

  /**
   * @param write stores the text so far (marked incomplete)
   * @param intervalMs the shortest time between two writes
   * @param onError a failed write is reported here; the next one tries again
   */
  constructor(
    private readonly write: (text: string) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The answer is now `text`; it is written within `intervalMs`. */
  update(text: string): void {
    if (this.settled) return;
    this.latest = text;
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** No more writes; resolves once a write in flight has ended, so the final answer lands last. */
  async settle(): Promise<void> {
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private flush(): void {
    this.timer = undefined;
    const text = this.latest;
    if (text === undefined || this.settled) return;
    this.latest = undefined;
    this.chain = this.chain.then(() =>
      this.settled ? undefined : this.write(text).then(() => undefined, this.onError),
    );
  }
}

/**
 * Stores an empty answer marked incomplete right after the question and
 * returns where it is and the writer that keeps its text up to date while it
 * streams. After a crash the conversation shows what was answered, marked
 * incomplete, and the model never gets two user messages in a row.
 * Undefined when the conversation was reset meanwhile.
 */
export async function startPartialAnswer(
  store: ConversationStore,
  turn: Turn,
  intervalMs: number,
  now: () => number,
  log: Logger,
): Promise<{ slot: MessageSlot; writer: PartialAnswerWriter } | undefined> {
  const { conversationId } = turn.incoming;
  const draft = (text: string) => ({ role: "assistant" as const, text, at: now(), incomplete: true });
  const slot = await store.appendSlot(conversationId, draft(""), { ifGeneration: turn.generation });
  if (!slot) return undefined;
  const writer = new PartialAnswerWriter(
    (text) => store.rewrite(conversationId, slot, draft(text)),
    intervalMs,
    (err) => log.warn({ err, conversationId }, "could not store the answer so far"),
  );
  return { slot, writer };
}
