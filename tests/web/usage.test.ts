import { afterEach, describe, expect, it } from "vitest";
import { lastUserText } from "../fakes/llm-server.js";
import { post, readSse, startWeb, type WebHarness } from "./harness.js";

/** 2026-03-09, 18:00 UTC. */
const EVENING = Date.UTC(2026, 2, 9, 18, 0, 0);

describe("web: usage, limits, GET /usage and the export", () => {
  let h: WebHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const start = (options: Parameters<typeof startWeb>[0] = {}) =>
    startWeb({
      ...options,
      bot: {
        ...options.bot,
        usage: {
          limits: { userDailyTokens: 1_000 },
          prices: { "gpt-test": { input: 3, output: 15 } },
          now: () => EVENING,
          ...options.bot?.usage,
        },
      },
    });

  it("GET /usage shows what the provider reported, the limits and when they reset", async () => {
    h = await start();
    for (const message of ["first", "second"]) {
      const res = await post(h.baseUrl, "/chat", { message });
      expect(res.status).toBe(200);
    }
    const reported = h.fake.usageReported;
    expect(reported).toHaveLength(2);
    const input = reported.reduce((s, u) => s + u.inputTokens, 0);
    const output = reported.reduce((s, u) => s + u.outputTokens, 0);
    const res = await fetch(`${h.baseUrl}/usage`);
    expect(res.status).toBe(200);
    const today = {
      turns: 2,
      tokens: input + output,
      input_tokens: input,
      output_tokens: output,
      cached_input_tokens: 0,
      estimated_turns: 0,
      cost: expect.closeTo((input * 3 + output * 15) / 1e6, 12),
    };
    expect(await res.json()).toEqual({
      user: "web",
      today,
      month: today,
      limits: { user_daily_tokens: 1_000 },
      resets_at: "2026-03-10T00:00:00.000Z",
      currency: "USD",
    });
  });

  it("the 80 % notice comes with the answer; past the limit POST /chat is a 429 saying when it resets, and no model is asked", async () => {
    h = await start();
    h.fake.respond((body) => ({
      text: `You said: ${lastUserText(body)}`,
      usage: { inputTokens: 600, outputTokens: 250 },
    }));
    const first = await post(h.baseUrl, "/chat", { message: "big" });
    expect(await first.json()).toMatchObject({
      response: "You said: big",
      notices: [
        "_You have used 85 % of your daily limit (850 tokens of 1,000 tokens); it resets at 00:00 UTC, in 6 h._",
      ],
    });
    const streamed = await readSse(await post(h.baseUrl, "/chat/stream", { message: "bigger" }));
    expect(streamed.events.find((e) => e.event === "notice")?.data).toMatch(/now used your daily limit/);
    const requests = h.fake.requests.length;
    const refused = await post(h.baseUrl, "/chat", { message: "too much" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(6 * 3600));
    expect(await refused.json()).toEqual({
      error: {
        code: "limit_reached",
        message:
          "You have used your daily limit of 1,000 tokens here, so I can't answer this now. It resets at 00:00 UTC, in 6 h.",
      },
    });
    // The stream is refused before it opens: a plain 429 with the same reason, no SSE.
    const stream = await post(h.baseUrl, "/chat/stream", { message: "still too much" });
    expect(stream.status).toBe(429);
    expect(stream.headers.get("retry-after")).toBe(String(6 * 3600));
    expect(((await stream.json()) as { error: { code: string } }).error.code).toBe("limit_reached");
    expect(h.fake.requests.length).toBe(requests);
  });

  it("GET /usage?top= lists the busiest users and channels of every platform", async () => {
    h = await start();
    await post(h.baseUrl, "/chat", { message: "hello" });
    const place = { platform: "slack", workspace: "T1", channel: "C1" };
    await h.usage.ledger.record({ place, userId: "U1", model: "gpt-test" }, usage(100, 50), EVENING);
    const body = (await (await fetch(`${h.baseUrl}/usage?top=5`)).json()) as {
      top: { today: { users: Array<{ platform: string; id: string; tokens: number }>; channels: unknown[] } };
    };
    expect(body.top.today.users.map((u) => [u.platform, u.id, u.tokens])).toEqual([
      ["slack", "U1", 150],
      ["web", "web", expect.any(Number)],
    ]);
    expect(body.top.today.channels).toMatchObject([
      { platform: "slack", workspace: "T1", id: "C1", tokens: 150 },
    ]);
    const bad = await fetch(`${h.baseUrl}/usage?top=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: { code: "invalid_request", message: "top must be a whole number from 1 to 100." },
    });
  });

  it("a browser on an allowed origin may ask for /usage (preflight answered)", async () => {
    h = await start({ web: { corsOrigins: ["https://app.example"] } });
    const preflight = await fetch(`${h.baseUrl}/usage`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  it("GET /usage/export: daily rows as CSV or JSON Lines, behind the API key", async () => {
    h = await start({ web: { apiKey: "secret-key" } });
    const auth = { authorization: "Bearer secret-key" };
    const at = (day: number) => Date.UTC(2026, 2, day, 12);
    const slack = { platform: "slack", workspace: "T1", channel: "C,1" };
    await h.usage.ledger.record({ place: slack, userId: "U1", model: "llama3.2:8b" }, usage(10, 5), at(8));
    await h.usage.ledger.record({ place: slack, userId: "U1", model: "llama3.2:8b" }, usage(1, 1), at(9));
    await h.usage.ledger.record({ place: slack, userId: "U2", model: "llama3.2:8b" }, usage(7, 3), at(2));
    expect((await fetch(`${h.baseUrl}/usage/export`)).status).toBe(401);

    const csv = await fetch(`${h.baseUrl}/usage/export?from=2026-03-08&to=2026-03-09`, { headers: auth });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toBe(
      'attachment; filename="usage-2026-03-08-2026-03-09.csv"',
    );
    expect((await csv.text()).split("\r\n")).toEqual([
      "day,dimension,platform,workspace,id,turns,input_tokens,output_tokens,cached_input_tokens,estimated_turns,cost",
      '2026-03-08,channel,slack,T1,"C,1",1,10,5,0,0,0',
      "2026-03-08,model,,,llama3.2:8b,1,10,5,0,0,0",
      "2026-03-08,user,slack,T1,U1,1,10,5,0,0,0",
      "2026-03-08,workspace,slack,T1,T1,1,10,5,0,0,0",
      '2026-03-09,channel,slack,T1,"C,1",1,1,1,0,0,0',
      "2026-03-09,model,,,llama3.2:8b,1,1,1,0,0,0",
      "2026-03-09,user,slack,T1,U1,1,1,1,0,0,0",
      "2026-03-09,workspace,slack,T1,T1,1,1,1,0,0,0",
      "",
    ]);
    // Default: this month so far.
    const jsonl = await fetch(`${h.baseUrl}/usage/export?format=jsonl`, { headers: auth });
    const rows = (await jsonl.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.dimension === "user").map((r) => [r.day, r.id, r.input_tokens])).toEqual([
      ["2026-03-02", "U2", 7],
      ["2026-03-08", "U1", 10],
      ["2026-03-09", "U1", 1],
    ]);
    for (const [query, message] of [
      ["from=2026-13-01", "from must be a date like 2026-03-09."],
      ["from=2026-03-09&to=2026-03-01", "from must not be after to."],
      ["from=2024-01-01&to=2026-03-01", "The export covers at most 400 days at once."],
      ["format=xml", "format must be csv or jsonl."],
    ]) {
      const res = await fetch(`${h.baseUrl}/usage/export?${query}`, { headers: auth });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(message);
    }
  });
});

function usage(inputTokens: number, outputTokens: number) {
  return { inputTokens, outputTokens, cachedInputTokens: 0, estimated: false };
}
