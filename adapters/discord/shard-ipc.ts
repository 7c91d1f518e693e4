import { randomUUID } from "node:crypto";
import type { Shard, ShardingManager } from "discord.js";
import type { Logger } from "../../src/log.js";

/**
 * What one shard process asks the others of a sharded bot, through the
 * manager's IPC channels: their metrics (prom-client JSON) or whether they
 * are ready. Shard 0 serves /metrics and /ready for all (the one view of a
 * sharded bot); the others have no HTTP server.
 */
type Question = "metrics" | "ready";

/** One shard's answer: its value, or why it gave none (it did not answer in time, it failed). */
export interface ShardAnswer {
  shard: number;
  value?: unknown;
  error?: string;
}

interface Ask {
  chatbot: "ask";
  id: string;
  what: Question;
}
interface Reply {
  chatbot: "answer";
  id: string;
  value?: unknown;
  error?: string;
}
interface Answers {
  chatbot: "answers";
  id: string;
  /** The asking shard's own id. */
  self: number;
  answers: ShardAnswer[];
}

const isMessage = (m: unknown, kind: string): boolean =>
  typeof m === "object" && m !== null && (m as { chatbot?: unknown }).chatbot === kind;

/**
 * In the manager: relays a shard's question to every other shard and sends
 * back their answers (a shard that does not answer within `timeoutMs` is
 * reported as such).
 */
export function relayShardQuestions(manager: ShardingManager, log: Logger, timeoutMs = 2_000): void {
  const pending = new Map<string, (reply: Reply) => void>();
  const askOne = (shard: Shard, id: string, what: Question): Promise<ShardAnswer> =>
    new Promise((resolve) => {
      const key = `${id}:${shard.id}`;
      const timer = setTimeout(() => {
        pending.delete(key);
        resolve({ shard: shard.id, error: `no answer in ${timeoutMs} ms` });
      }, timeoutMs);
      pending.set(key, (reply) => {
        clearTimeout(timer);
        pending.delete(key);
        resolve({ shard: shard.id, ...(reply.error ? { error: reply.error } : { value: reply.value }) });
      });
      shard.send({ chatbot: "ask", id, what } satisfies Ask).catch(() => {
        clearTimeout(timer);
        pending.delete(key);
        resolve({ shard: shard.id, error: "not running" });
      });
    });
  manager.on("shardCreate", (shard) => {
    shard.on("message", (message: unknown) => {
      if (isMessage(message, "answer")) {
        const reply = message as Reply;
        pending.get(`${reply.id}:${shard.id}`)?.(reply);
      } else if (isMessage(message, "ask")) {
        const { id, what } = message as Ask;
        const others = [...manager.shards.values()].filter((s) => s.id !== shard.id);
        void Promise.all(others.map((s) => askOne(s, `${id}:${randomUUID()}`, what)))
          .then((answers) =>
            shard.send({ chatbot: "answers", id, self: shard.id, answers } satisfies Answers),
          )
          .catch((err: unknown) => log.warn({ err, shard: shard.id }, "could not relay a shard's question"));
      }
    });
  });
}

/** This shard's way to the others: ask them all one question. */
export interface ShardPeers {
  ask(what: Question): Promise<{ self: number; answers: ShardAnswer[] }>;
}

/**
 * In a shard process (one the manager started, with an IPC channel): answers
 * the others' questions with `answer`, and returns how to ask them.
 * Undefined in a process no manager started.
 */
export function joinShardPeers(answer: (what: Question) => Promise<unknown>): ShardPeers | undefined {
  const send = process.send?.bind(process);
  if (!send) return undefined;
  const pending = new Map<string, (answers: Answers) => void>();
  process.on("message", (message: unknown) => {
    if (isMessage(message, "answers")) {
      const answers = message as Answers;
      pending.get(answers.id)?.(answers);
    } else if (isMessage(message, "ask")) {
      const { id, what } = message as Ask;
      void answer(what).then(
        (value) => send({ chatbot: "answer", id, value } satisfies Reply),
        (err: unknown) => send({ chatbot: "answer", id, error: String(err) } satisfies Reply),
      );
    }
  });
  return {
    ask: (what) =>
      new Promise((resolve, reject) => {
        const id = randomUUID();
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error("the shard manager did not answer"));
        }, 5_000);
        pending.set(id, (answers) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve({ self: answers.self, answers: answers.answers });
        });
        send({ chatbot: "ask", id, what } satisfies Ask);
      }),
  };
}
