import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { SharedEditBudgets } from "../../src/replicas/shared-budget.js";
import { EditBudgets } from "../../src/stream/budget.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

describe.each(["redis", "postgres"] as const)("edit budgets shared by replicas through %s", (backend) => {
  let stores: KeyvConversationStore[] = [];
  let skip = false;
  beforeAll(async () => {
    if (!(await backendAvailable(backend))) {
      skip = true;
      return;
    }
    stores = [0, 1, 2].map(() =>
      createStore(BACKENDS[backend], { maxMessages: 5, ttlMs: 60_000, purgeIntervalMs: 0 }),
    );
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  // Three replicas, each with its own local budget of the same size, share one window.
  const replicas = (name: string, edits: number, perMs: number) =>
    stores.map(
      (s) =>
        new SharedEditBudgets(new EditBudgets({ edits, perMs }), s.coordination.windows!, {
          edits,
          perMs,
          name,
        }),
    );

  it("never grants more than the platform's limit in any window, whatever the number of replicas", async (ctx) => {
    if (skip) return ctx.skip();
    const name = randomUUID();
    const perMs = 1_000;
    const edits = 5;
    const scope = "C1";
    const grants: number[] = [];
    const started = Date.now();
    // Each replica tries to send 6 edits as fast as it can: 18 wanted, 5 allowed per second.
    await Promise.all(
      replicas(name, edits, perMs).map(async (budgets) => {
        for (let i = 0; i < 6; i++) {
          await budgets.get(scope).acquire();
          grants.push(Date.now() - started);
        }
      }),
    );
    expect(grants).toHaveLength(18);
    grants.sort((a, b) => a - b);
    // Any window of perMs holds at most `edits` grants (a little slack for clock granularity).
    for (let i = edits; i < grants.length; i++)
      expect(grants[i]! - grants[i - edits]!).toBeGreaterThanOrEqual(perMs - 5);
  });

  it("a 429 seen by one replica pauses the others", async (ctx) => {
    if (skip) return ctx.skip();
    const [a, b] = replicas(randomUUID(), 100, 1_000);
    a!.get("C").pause(400);
    await new Promise((r) => setTimeout(r, 20));
    const t = Date.now();
    await b!.get("C").acquire();
    expect(Date.now() - t).toBeGreaterThanOrEqual(300);
  });
});
