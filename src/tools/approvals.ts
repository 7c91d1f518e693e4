import { randomUUID } from "node:crypto";

/** What approvals need of a store other processes share (the StateStore's shape). */
export interface SharedState {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What the asker is asked before a tool that may change things runs. */
export interface ApprovalQuestion {
  /** Carried by the platform's buttons back to `Approvals.answer`. */
  id: string;
  /** Who asked the question that led to the call: only they may answer. */
  askerId: string;
  askerName: string;
  /** The tool's name and server, and the arguments the model wrote. */
  tool: string;
  server: string;
  args: Record<string, unknown>;
}

/**
 * How a surface asks: it shows the question with Approve/Deny buttons and
 * resolves to a function that replaces them with the outcome's sentence once
 * the question is settled (answered, timed out, or the turn ended).
 */
export type AskApproval = (question: ApprovalQuestion) => Promise<(outcome: string) => Promise<void>>;

/** How a question ended. */
export type ApprovalDecision = "approved" | "denied" | "timeout";

/** What a press did: settled the question, was not the asker's, or came for no open question. */
export type AnswerResult = "settled" | "not-yours" | "unknown";

interface Pending {
  askerId: string;
  decide: (decision: ApprovalDecision, by: string) => void;
}

/** A press that reached another replica, kept for the asking one to find. */
interface SharedAnswer {
  approve: boolean;
  by: string;
}

/**
 * Approvals as a core question: a turn asks (through its surface's
 * `AskApproval`) and waits; a button press answers it, only by the asker.
 * With a store other processes share, a press that reaches another replica
 * (Slack delivers to any of them) answers it through the store, as Stop
 * does. Deny, no answer in `timeoutMs`, or the turn stopping all mean the
 * call does not run.
 */
export class Approvals {
  private readonly pending = new Map<string, Pending>();
  private readonly shared: SharedState | undefined;
  private readonly pollMs: number;

  /** `shared`: the store replicas share; `pollMs`: how often an open question looks for a press elsewhere (default 250). */
  constructor(options: { shared?: SharedState; pollMs?: number } = {}) {
    this.shared = options.shared;
    this.pollMs = options.pollMs ?? 250;
  }

  /** Open questions (for tests and shutdown). */
  get open(): number {
    return this.pending.size;
  }

  /** Asks and waits; rejects with the signal's reason when the turn is stopped meanwhile. */
  async ask(
    question: Omit<ApprovalQuestion, "id">,
    surface: AskApproval,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<ApprovalDecision> {
    const id = randomUUID();
    const { signal, timeoutMs } = options;
    let settle: ((outcome: string) => Promise<void>) | undefined;
    const decided = new Promise<{ decision: ApprovalDecision; by: string }>((resolve, reject) => {
      const timer = setTimeout(() => finish("timeout", ""), timeoutMs);
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        reject(signal.reason);
      };
      const finish = (decision: ApprovalDecision, by: string) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve({ decision, by });
      };
      this.pending.set(id, { askerId: question.askerId, decide: finish });
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    // Awaited below; marked handled so a stop while the question is being posted is not "unhandled".
    decided.catch(() => undefined);
    // Recorded before the question is shown, so a press on another replica always finds it.
    const watch = await this.watchShared(id, question.askerId, timeoutMs);
    try {
      settle = await surface({ ...question, id });
    } catch (err) {
      this.pending.get(id)?.decide("denied", "");
      throw err;
    }
    try {
      const { decision, by } = await decided;
      await settle(outcomeText(question.tool, decision, by, options.timeoutMs)).catch(() => undefined);
      return decision;
    } catch (err) {
      await settle(`🔧 ${question.tool}: not run, the answer was stopped.`).catch(() => undefined);
      throw err;
    } finally {
      await watch();
    }
  }

  /**
   * With a shared store: records who may answer question `id` and looks for
   * an answer pressed on another replica until the question is settled;
   * returns what cleans up.
   */
  private async watchShared(id: string, askerId: string, timeoutMs: number): Promise<() => Promise<void>> {
    const shared = this.shared;
    if (!shared) return async () => {};
    const ttlMs = timeoutMs + 60_000;
    // A store that fails here leaves the question to presses on this replica.
    await shared.set(askerKey(id), askerId, ttlMs).catch(() => undefined);
    const timer = setInterval(() => {
      shared.get<SharedAnswer>(answerKey(id)).then(
        (a) => {
          if (a) this.pending.get(id)?.decide(a.approve ? "approved" : "denied", a.by);
        },
        () => undefined,
      );
    }, this.pollMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await Promise.all([shared.delete(askerKey(id)), shared.delete(answerKey(id))]).catch(() => undefined);
    };
  }

  /** A press of Approve (`approve`) or Deny by `presserId` on question `id`: asked here, or on another replica. */
  async answer(id: string, presserId: string, presserName: string, approve: boolean): Promise<AnswerResult> {
    const pending = this.pending.get(id);
    if (pending) {
      if (pending.askerId !== presserId) return "not-yours";
      pending.decide(approve ? "approved" : "denied", presserName);
      return "settled";
    }
    const askerId = await this.shared?.get<string>(askerKey(id));
    if (askerId === undefined) return "unknown";
    if (askerId !== presserId) return "not-yours";
    const answer: SharedAnswer = { approve, by: presserName };
    await this.shared?.set(answerKey(id), answer, 3_600_000);
    return "settled";
  }
}

const askerKey = (id: string) => `approval:${id}`;
const answerKey = (id: string) => `approval:${id}:answer`;

function outcomeText(tool: string, decision: ApprovalDecision, by: string, timeoutMs: number): string {
  if (decision === "approved") return `🔧 ${tool}: approved by ${by}.`;
  if (decision === "denied") return `🔧 ${tool}: denied by ${by}, not run.`;
  const minutes = Math.round(timeoutMs / 60_000);
  const wait =
    minutes >= 1
      ? `${minutes} minute${minutes === 1 ? "" : "s"}`
      : timeoutMs >= 1_000
        ? `${Math.round(timeoutMs / 1000)} s`
        : `${timeoutMs} ms`;
  return `🔧 ${tool}: no answer in ${wait}, not run.`;
}
