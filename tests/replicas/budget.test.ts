import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { ALICE } from "../slack/harness.js";
import { type Replica, sleep, startReplicas, stopReplicas, until, World } from "./cluster.js";

/** Slack's window for chat.update is a minute; the adapter's workspace budget counts edits per 60 s (posts have their own, per channel). */
const EDITS_PER_MINUTE = 6;
const WINDOW_MS = 60_000;

/**
 * Shared edit budgets exist on Redis only (SharedEditBudgets, a sliding window
 * in Redis); with Postgres each replica keeps its own budget.
 */
describe("two replicas sharing Redis draw Slack edits from one workspace budget (Redis only)", () => {
  let world: World | undefined;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    if (!(await backendAvailable("redis"))) return;
    world = await World.start();
    const env = world.env(BACKENDS.redis, { SLACK_EDITS_PER_MINUTE: String(EDITS_PER_MINUTE) });
    replicas = await startReplicas(["a", "b"], env);
  });

  afterAll(async () => {
    // Answers still waiting for the budget would hold a graceful stop for most of a minute.
    await stopReplicas(replicas, 500);
    await world?.close();
  });

  it("makes no more chat.update calls in a minute than SLACK_EDITS_PER_MINUTE, across both", async (ctx) => {
    const w = world;
    if (!w || replicas.length < 2) return ctx.skip();
    const startedAt = Date.now();
    // Four slow answers, two per replica: each alone wants a few edits and a final edit.
    const threads = [0, 1, 2, 3].map((i) => ({
      channel: w.channel(),
      ts: w.slack.nextTs(),
      question: `stream number ${i}, SLOW`,
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
      "all four turns to start",
    );
    const requests = () => threads.flatMap((t) => w.callsIn(t.channel, "chat.update"));
    await until(() => requests().length >= EDITS_PER_MINUTE, "the budget to be used");
    // The model streams each answer for about a second; leave time for every edit they still want.
    await sleep(2_500);

    // Every call so far falls in one window, so the limit is on their total.
    expect(Date.now() - startedAt).toBeLessThan(WINDOW_MS);
    expect(requests()).toHaveLength(EDITS_PER_MINUTE);
    // Two replicas with a budget each would have made up to twice as many; the answers want more.
    const finished = threads.filter((t) => w.botTexts(t.channel, t.ts).some((text) => !text.includes("▌")));
    expect(finished.length).toBeLessThan(threads.length);
  });
});
