import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { ALICE } from "../slack/harness.js";
import { problemsLogged, type Replica, sleep, startReplicas, stopReplicas, until, World } from "./cluster.js";

/** Slack allows chat.update about 50 times a minute per workspace: the bot's default budget (SLACK_EDITS_PER_MINUTE). */
const EDITS_PER_MINUTE = 50;
const WINDOW_MS = 60_000;
/** How long the answers are watched: a whole window. */
const WATCH_MS = 60_000;

/** The most calls among `times` (ms) that fall in any `windowMs`. */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] as number) - (sorted[from] as number) >= windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

/**
 * Two bot processes sharing the real Redis or Postgres draw Slack's
 * chat.update calls from one workspace budget (SharedEditBudgets over the
 * backend's shared windows), with six answers that each stream for a minute
 * and alone would want an edit a second or so.
 */
describe.each(["redis", "postgres"] as const)("two replicas sharing %s, one Slack edit budget", (backend) => {
  let world: World | undefined;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    world = await World.start();
    replicas = await startReplicas(["a", "b"], world.env(BACKENDS[backend]));
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const r of replicas) console.error(`replica ${r.name} logged:\n${problemsLogged(r)}`);
  });

  afterAll(async () => {
    // The answers are still streaming: a graceful stop would wait for them.
    await stopReplicas(replicas, 500);
    await world?.close();
  });

  it(`six long answers on two replicas: at most ${EDITS_PER_MINUTE} chat.update in any minute, together`, async (ctx) => {
    const w = world;
    if (!w || replicas.length < 2) return ctx.skip();
    const threads = [0, 1, 2, 3, 4, 5].map((i) => ({
      channel: w.channel(),
      ts: w.slack.nextTs(),
      question: `answer number ${i}, LONG please`,
      replica: replicas[i % 2] as Replica,
    }));
    await Promise.all(
      threads.map((t) =>
        t.replica.post.event(
          w.envelope(
            appMentionEvent({
              channel: t.channel,
              user: ALICE.id,
              text: `<@${w.slack.botUserId}> ${t.question}`,
              ts: t.ts,
            }),
          ),
        ),
      ),
    );
    await until(
      () => threads.every((t) => w.requestsFor(t.question).length === 1),
      "all six turns to start",
      30_000,
    );
    const watchedFrom = Date.now();
    await sleep(WATCH_MS);
    const updates = threads.flatMap((t) => w.callsIn(t.channel, "chat.update"));
    const times = updates.map((c) => c.at);

    const busiest = mostInAnyWindow(times, WINDOW_MS);
    console.log(`${backend}: ${updates.length} chat.update in all, ${busiest} in the busiest minute`);
    expect(busiest).toBeLessThanOrEqual(EDITS_PER_MINUTE);
    // The budget was used to the full over the minute (the answers want several times more)…
    expect(times.filter((t) => t >= watchedFrom).length).toBeGreaterThanOrEqual(EDITS_PER_MINUTE * 0.8);
    // …by every answer on both replicas, and none got a 429 for it.
    for (const t of threads) expect(w.callsIn(t.channel, "chat.update").length).toBeGreaterThan(0);
    expect(updates.filter((c) => c.response?.ok !== true)).toEqual([]);
  }, 120_000);
});
