import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { problemsLogged, type Replica, startReplicas, stopReplicas, World } from "./cluster.js";

interface WebUsage {
  today: { turns: number; input_tokens: number; output_tokens: number };
}

const TURNS = 200;

/**
 * Two bot processes sharing the real Redis or Postgres: 200 web turns for the
 * one web user at once, half on each, and not one increment lost.
 */
describe.each(["redis", "postgres"] as const)("usage counted by two replicas sharing %s", (backend) => {
  let world: World | undefined;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    world = await World.start();
    // One client sends all 200 at once: its own limits (tested in tests/web) must not refuse them.
    const env = world.env(BACKENDS[backend], {
      WEB_MAX_CONCURRENT_PER_CLIENT: "1000",
      WEB_RATE_LIMIT_PER_MINUTE: "100000",
    });
    replicas = await startReplicas(["a", "b"], env);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const r of replicas) console.error(`replica ${r.name} logged:\n${problemsLogged(r)}`);
  });
  afterAll(async () => {
    await stopReplicas(replicas);
    await world?.close();
  });

  const usageOn = async (r: Replica) =>
    ((await (await fetch(`${r.baseUrl}/usage`)).json()) as WebUsage).today;

  it(`${TURNS} turns finishing at once on two replicas: every one counted, with the provider's figures`, async (ctx) => {
    const [a, b] = replicas;
    if (!world || !a || !b) return ctx.skip();
    // The web user's counters outlive a run (and the day may hold earlier runs'): count the difference.
    const before = await usageOn(a);
    const answers = await Promise.all(
      Array.from({ length: TURNS }, (_, i) =>
        fetch(`${(i % 2 === 0 ? a : b).baseUrl}/chat`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message: `question ${i}` }),
        }).then((res) => res.status),
      ),
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(TURNS);
    const reported = world.model.usageReported;
    expect(reported).toHaveLength(TURNS);
    const expected = {
      turns: before.turns + TURNS,
      input_tokens: before.input_tokens + reported.reduce((s, u) => s + u.inputTokens, 0),
      output_tokens: before.output_tokens + reported.reduce((s, u) => s + u.outputTokens, 0),
    };
    for (const r of [a, b]) expect(await usageOn(r)).toMatchObject(expected);
  });
});
