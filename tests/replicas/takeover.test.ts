import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RESTART_NOTE } from "../../src/texts.js";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { ALICE } from "../slack/harness.js";
import {
  answerFor,
  problemsLogged,
  type Replica,
  sleep,
  startReplica,
  stopReplicas,
  until,
  World,
} from "./cluster.js";

const KILLS = 10;
/** The bounds, from the kill: the follow-up answered, and the message left behind finished. */
const ANSWERED_WITHIN_MS = 5_000;
const FINISHED_WITHIN_MS = 10_000;
const CURSOR = "▌";

/**
 * Three bot processes with the default lease and crash recovery, sharing the
 * real Redis or Postgres. Ten times: a replica is killed (SIGKILL) while it
 * writes an answer, with the thread's next message waiting on another
 * replica; a new process takes the dead one's place for the next rounds.
 * Times are the fake Slack's: when it got the kill's follow-up answer, and
 * the edit that finished the message the dead replica left.
 */
describe.each(["redis", "postgres"] as const)("replicas on %s killed mid-answer", (backend) => {
  let world: World | undefined;
  let env: Record<string, string> = {};
  /** The three slots; a killed replica's slot gets a new process (a promise while it starts). */
  const slots: Array<Promise<Replica>> = [];
  const all: Replica[] = [];

  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    world = await World.start();
    env = world.env(BACKENDS[backend]);
    for (const name of ["a", "b", "c"]) {
      const started = startReplica(name, env);
      slots.push(started);
      all.push(await started);
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const r of all) console.error(`replica ${r.name} logged:\n${problemsLogged(r)}`);
  });

  afterAll(async () => {
    await Promise.allSettled(slots);
    await stopReplicas(all, 500);
    await world?.close();
  });

  it(`${KILLS} kills: each follow-up answered by another replica within 5 s, each left message finished within 10 s`, async (ctx) => {
    const w = world;
    if (!w || slots.length < 3) return ctx.skip();
    const rounds: Array<{ channel: string; killedAt: number; answeredAt: number; leftTs: string }> = [];
    for (let i = 0; i < KILLS; i++) {
      const victim = await (slots[i % 3] as Promise<Replica>);
      const taker = await (slots[(i + 1) % 3] as Promise<Replica>);
      const channel = w.channel();
      const root = w.slack.nextTs();
      const second = `round ${i}: anyone still there?`;
      await victim.post.event(
        w.envelope(
          appMentionEvent({
            channel,
            user: ALICE.id,
            text: `<@${w.slack.botUserId}> round ${i}: this one will STALL`,
            ts: root,
          }),
        ),
      );
      await until(
        () => w.botTexts(channel, root).some((t) => t.includes("Thinking hard")),
        `round ${i}: ${victim.name} to stream`,
      );
      const left = w.firstShown(channel, (t) => t.includes("Thinking hard")) as { ts: string };
      await taker.post.event(
        w.envelope(
          messageEvent({ channel, user: ALICE.id, text: second, ts: w.slack.nextTs(), thread_ts: root }),
        ),
      );
      // The follow-up waits for the conversation's lock on the taker.
      await sleep(300);
      const killedAt = Date.now();
      victim.child.kill("SIGKILL");
      await victim.exited;
      slots[i % 3] = startReplica(victim.name, env).then((r) => {
        all.push(r);
        return r;
      });
      await w.waitForText(channel, root, answerFor(second), 30_000);
      const answered = w.firstShown(channel, (t) => t === answerFor(second));
      rounds.push({ channel, killedAt, answeredAt: answered?.at ?? Number.NaN, leftTs: left.ts });
    }
    // The left messages are finished by whichever replica sweeps first; wait for the last.
    for (const r of rounds) {
      await until(
        () =>
          w.slack
            .botMessagesIn(r.channel)
            .some((m) => m.ts === r.leftTs && m.text.includes(RESTART_NOTE) && !m.text.includes(CURSOR)),
        `the message left in ${r.channel} to be finished`,
        30_000,
      );
    }
    const figures = rounds.map((r) => {
      const finish = w
        .callsIn(r.channel, "chat.update")
        .find((c) => c.params.ts === r.leftTs && String(c.response?.message?.text).includes(RESTART_NOTE));
      return { answeredMs: r.answeredAt - r.killedAt, finishedMs: (finish?.at ?? Number.NaN) - r.killedAt };
    });
    const answered = figures.map((f) => f.answeredMs);
    const finished = figures.map((f) => f.finishedMs);
    console.log(
      `${backend}: follow-up answered after the kill (ms): ${answered.join(", ")}; left message finished (ms): ${finished.join(", ")}`,
    );
    for (const f of figures) {
      expect(f.answeredMs).toBeLessThanOrEqual(ANSWERED_WITHIN_MS);
      expect(f.finishedMs).toBeLessThanOrEqual(FINISHED_WITHIN_MS);
    }
  }, 240_000);
});
