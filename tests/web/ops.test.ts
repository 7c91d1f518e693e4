import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWebServer, registerOpsRoutes } from "../../adapters/web/index.js";
import { silentLogger } from "../../src/log.js";
import { Metrics } from "../../src/metrics.js";
import { Bot } from "../../src/turn/index.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";
import { webConfig } from "./harness.js";

describe("/ready and /metrics", () => {
  let t: TestBot | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await t?.close();
  });

  async function start(checks: Record<string, () => Promise<boolean>>, metrics?: Metrics) {
    t = await makeTestBot();
    const bot = new Bot({
      model: t.bot.model,
      store: t.store,
      log: silentLogger(),
      systemPrompt: "s",
      contextTokens: 4_000,
      onTurn: metrics ? (s) => metrics.recordTurn(s) : undefined,
    });
    const app = await createWebServer({
      bot,
      turns: t.turns,
      config: { ...webConfig({ maxMessageChars: 1000 }), cursor: "▌" },
      log: silentLogger(),
      usage: t.usage,
    });
    registerOpsRoutes(app, {
      checks,
      metricsText: metrics ? () => metrics.text() : undefined,
      checkTimeoutMs: 200,
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    close = () => app.close();
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  it("/ready is 200 when every check passes and 503 naming the one that fails or hangs", async () => {
    let slackUp = true;
    const base = await start({
      store: async () => true,
      slack: async () => slackUp,
      discord: () => new Promise(() => {}),
    });
    const res = await fetch(`${base}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: "not ready",
      checks: { store: true, slack: true, discord: false },
      reasons: { discord: "no answer in 200 ms" },
    });
    slackUp = false;
    expect((await (await fetch(`${base}/ready`)).json()).checks.slack).toBe(false);
  });

  it("/ready is 200 when all pass; /metrics is absent unless enabled", async () => {
    const base = await start({ store: async () => true });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it("/metrics counts turns, time to first token and errors by code", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const base = await start({}, metrics);
    t!.fake.enqueue({ text: "hello" }, { status: 401 });
    for (const message of ["one", "two"]) {
      await fetch(`${base}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message }),
      });
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('chatbot_turns_total{platform="web",outcome="ok",model="gpt-test"} 1');
    expect(text).toContain('chatbot_turns_total{platform="web",outcome="error",model="gpt-test"} 1');
    expect(text).toContain('chatbot_errors_total{code="auth"} 1');
    expect(text).toMatch(/chatbot_time_to_first_token_seconds_count\{platform="web"\} 1/);
  });
});

describe("metrics of platform edits", () => {
  it("counts every post/edit drawn from a budget and every 429 pause, by platform", async () => {
    const { EditBudgets } = await import("../../src/stream/index.js");
    const metrics = new Metrics({ defaultMetrics: false, activeTurns: () => 3 });
    const budgets = metrics.countBudgets("discord", new EditBudgets({ edits: 100, perMs: 5_000 }));
    for (let i = 0; i < 4; i++) await budgets.get("C1").acquire();
    budgets.get("C1").pause(1);
    const text = await metrics.text();
    expect(text).toContain('chatbot_edits_total{platform="discord"} 4');
    expect(text).toContain('chatbot_rate_limited_total{platform="discord"} 1');
    expect(text).toContain("chatbot_active_turns 3");
  });
});
