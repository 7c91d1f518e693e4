import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fastify } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerFeedbackRoute } from "../../adapters/web/index.js";
import { loadConfig } from "../../src/config/index.js";
import { buildCore, type Core } from "../../src/core.js";
import { FeedbackStore, type FeedbackVote } from "../../src/feedback/index.js";
import { silentLogger } from "../../src/log.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const vote = (userId: string, value: "up" | "down", messageId = "C1:1700000001.000001"): FeedbackVote => ({
  platform: "slack",
  conversationId: "slack:T1:C1:1700000000.000001",
  messageId,
  userId,
  value,
  at: Date.now(),
});

const all = async (store: FeedbackStore) => {
  const out: FeedbackVote[] = [];
  for await (const v of store.votes()) out.push(v);
  return out;
};

const dir = mkdtempSync(join(tmpdir(), "chatbot-feedback-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of ["sqlite", "redis", "postgres"] as const) {
  describe(`feedback votes on ${backend}`, () => {
    let store: KeyvConversationStore | undefined;
    let available = true;
    beforeAll(async () => {
      if (backend !== "sqlite") available = await backendAvailable(backend);
      if (!available) return;
      const url = backend === "sqlite" ? `sqlite://${join(dir, "votes.sqlite")}` : BACKENDS[backend];
      // A shared server may hold earlier runs' votes: each run votes on messages of its own.
      store = createStore(url, { maxMessages: 10, ttlMs: 60_000, purgeIntervalMs: 0 });
    });
    afterAll(async () => store?.close());

    it("keeps one vote per person per message, changeable, and lists each once, oldest first", async (ctx) => {
      if (!available || !store) return ctx.skip();
      const seen: Array<[string, string | undefined]> = [];
      const votes = new FeedbackStore(store.state, {
        onVote: (v, previous) => seen.push([v.value, previous]),
      });
      const message = `C1:${Date.now()}.000001`;
      expect(await votes.record(vote("U1", "up", message))).toBeUndefined();
      expect(await votes.record(vote("U1", "down", message))).toBe("up");
      expect(await votes.record(vote("U2", "up", message))).toBeUndefined();
      // Another replica on the same store sees them, and adds after them.
      const replica = new FeedbackStore(store.state);
      await replica.record(vote("U3", "down", message));
      const listed = (await all(votes)).filter((v) => v.messageId === message);
      expect(listed.map((v) => [v.userId, v.value])).toEqual([
        ["U1", "down"],
        ["U2", "up"],
        ["U3", "down"],
      ]);
      expect(seen).toEqual([
        ["up", undefined],
        ["down", "up"],
        ["up", undefined],
      ]);
    });
  });
}

describe("feedback in the core, /metrics and GET /feedback", () => {
  let core: Core;
  beforeAll(async () => {
    const config = loadConfig({
      env: {
        STORE_URL: `sqlite://${join(dir, "core.sqlite")}`,
        METRICS_ENABLED: "true",
        OPENAI_API_KEY: "sk-x",
      },
    });
    core = await buildCore(config, silentLogger());
  });
  afterAll(async () => core.store.close());

  it("counts votes by value in /metrics; a changed vote under its new value, a repeated press not again", async () => {
    await core.feedback.record(vote("U1", "up", "C9:1.1"));
    await core.feedback.record(vote("U1", "up", "C9:1.1"));
    await core.feedback.record(vote("U1", "down", "C9:1.1"));
    const text = await core.metrics!.text();
    expect(text).toContain('chatbot_feedback_votes_total{platform="slack",value="up"} 1');
    expect(text).toContain('chatbot_feedback_votes_total{platform="slack",value="down"} 1');
  });

  it("exports every vote as JSON lines, behind the API key", async () => {
    const app = fastify();
    registerFeedbackRoute(app, { apiKey: "secret-key", votes: () => core.feedback.votes() });
    await app.ready();
    expect((await app.inject({ method: "GET", url: "/feedback" })).statusCode).toBe(401);
    const res = await app.inject({
      method: "GET",
      url: "/feedback",
      headers: { authorization: "Bearer secret-key" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/x-ndjson/);
    const lines = res.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(
      expect.objectContaining({
        platform: "slack",
        conversation_id: "slack:T1:C1:1700000000.000001",
        message_id: "C9:1.1",
        user_id: "U1",
        value: "down",
      }),
    );
    expect(lines.filter((l) => l.message_id === "C9:1.1")).toHaveLength(1);
    await app.close();
  });
});
