/** The bench's messages to the fakes' process (bench/freshness/fakes.ts). */
export type ToFakes =
  | { type: "pace"; pace: { tokens: number; tokensPerS: number; ttftMs: number } }
  | { type: "say"; channelId: string; content: string }
  | { type: "trace" }
  /** Answers "finished" once every question has an answer whose last accepted text has no cursor. */
  | { type: "await"; questions: string[]; cursor: string; timeoutMs: number }
  | { type: "close" };

/** A message create or edit as the fake Discord answered it. */
export interface TracedCall {
  method: string;
  path: string;
  status: number;
  /** When it took effect: people see its text from then on (ms since the epoch). */
  appliedAt: number;
  content: string | undefined;
  /** A create's message_reference (the question it answers). */
  replyTo: string | undefined;
  /** A create's new message id. */
  id: string | undefined;
}

/** What the fakes' process answers. */
export type FromFakes =
  | {
      type: "ready";
      apiUrl: string;
      token: string;
      openaiUrl: string;
      botId: string;
      /** Ten guilds' text channels. */
      channels: string[];
      /** A thread: one conversation, whose questions queue. */
      thread: string;
    }
  | { type: "ok" }
  | { type: "said"; id: string }
  | { type: "finished"; all: boolean }
  | { type: "trace"; produced: Record<string, number[]>; calls: TracedCall[] };
