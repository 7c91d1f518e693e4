import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { ALICE } from "../slack/harness.js";
import {
  answerFor,
  problemsLogged,
  type Replica,
  sleep,
  startReplicas,
  stopReplicas,
  World,
} from "./cluster.js";

const ROUNDS = 20;
/** Threads asked at once: the rounds run in batches, the load makes the replicas' timing vary. */
const AT_ONCE = 5;

/**
 * Three bot processes sharing the real Redis or Postgres. In each round, a
 * thread gets three messages 100 ms apart, each on another replica (which
 * replica gets the first one rotates), while the bot is still answering the
 * first: they wait on three replicas at once and must be answered in the
 * order they were written, each with the exchanges before it.
 */
describe.each(["redis", "postgres"] as const)(
  "three replicas sharing %s answer a thread in order",
  (backend) => {
    let world: World | undefined;
    let replicas: Replica[] = [];

    beforeAll(async () => {
      if (!(await backendAvailable(backend))) return;
      world = await World.start();
      // Plenty of edits: budgets across replicas have a test of their own (budget.test.ts).
      replicas = await startReplicas(
        ["a", "b", "c"],
        world.env(BACKENDS[backend], { SLACK_EDITS_PER_MINUTE: "10000" }),
      );
    });

    afterEach((ctx) => {
      if (ctx.task.result?.state !== "fail") return;
      for (const r of replicas) console.error(`replica ${r.name} logged:\n${problemsLogged(r)}`);
    });

    afterAll(async () => {
      await stopReplicas(replicas);
      await world?.close();
    });

    it(`three messages 100 ms apart to three replicas, answered in order ${ROUNDS} times out of ${ROUNDS}`, async (ctx) => {
      const w = world;
      if (!w || replicas.length < 3) return ctx.skip();
      const round = async (n: number) => {
        const channel = w.channel();
        const root = w.slack.nextTs();
        const opening = `round ${n}: opening, answer SLOW`;
        await (replicas[n % 3] as Replica).post.event(
          w.envelope(
            appMentionEvent({
              channel,
              user: ALICE.id,
              text: `<@${w.slack.botUserId}> ${opening}`,
              ts: root,
            }),
          ),
        );
        const questions = [1, 2, 3].map((k) => `round ${n}: message ${k}, answer SLOW`);
        for (const [k, question] of questions.entries()) {
          if (k > 0) await sleep(100);
          const replica = replicas[(n + k) % 3] as Replica;
          await replica.post.event(
            w.envelope(
              messageEvent({
                channel,
                user: ALICE.id,
                text: question,
                ts: w.slack.nextTs(),
                thread_ts: root,
              }),
            ),
          );
        }
        const expected = [opening, ...questions].map(answerFor);
        const done = () => w.botTexts(channel, root).filter((t) => !t.includes("▌"));
        await w.slack.waitFor(() => done().length === 4, 60_000, `round ${n}: four answers`);
        // Each was asked with every exchange before it: answered one after the other, in order.
        const askedWith = questions.map((q) => w.requestsFor(q).map((r) => userTexts(r.body)));
        return { expected, shown: w.botTexts(channel, root), askedWith, questions: [opening, ...questions] };
      };
      const results = [];
      for (let from = 0; from < ROUNDS; from += AT_ONCE) {
        results.push(...(await Promise.all(Array.from({ length: AT_ONCE }, (_, i) => round(from + i)))));
      }
      const outOfOrder = results.filter((r) => JSON.stringify(r.shown) !== JSON.stringify(r.expected));
      expect(outOfOrder.map((r) => ({ shown: r.shown, askedWith: r.askedWith }))).toEqual([]);
      expect(results).toHaveLength(ROUNDS);
      for (const r of results) {
        expect(r.askedWith).toEqual([
          [r.questions.slice(0, 2)],
          [r.questions.slice(0, 3)],
          [r.questions.slice(0, 4)],
        ]);
      }
    }, 240_000);
  },
);

/** The user messages of a chat-completions request, in order. */
function userTexts(body: unknown): unknown[] {
  const messages =
    (body as { messages?: Array<{ role: string; content: unknown }> } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role === "user").map((m) => m.content);
}
