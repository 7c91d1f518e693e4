import { afterEach, describe, expect, it } from "vitest";
import { BusyError } from "../../src/errors.js";
import { ModelCallLimiter } from "../../src/turn/index.js";
import { post, readSse, startWeb, type WebHarness } from "./harness.js";

let t: WebHarness | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const slow = { chunks: Array.from({ length: 20 }, (_, i) => `w${i} `), chunkDelayMs: 100 };
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error("timed out waiting");
};

describe("per-client limits on the chat routes", () => {
  it("answers 429 with Retry-After and a reason past the rate, and calls no model for it", async () => {
    t = await startWeb({ web: { ratePerMinute: 3 } });
    for (let i = 0; i < 3; i++)
      expect((await post(t.baseUrl, "/chat", { message: `q${i}` })).status).toBe(200);
    const refused = await post(t.baseUrl, "/chat", { message: "one too many" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refused.json()).error).toMatchObject({
      code: "rate_limited",
      message: expect.stringMatching(/limit is 3 a minute/),
    });
    const stream = await post(t.baseUrl, "/chat/stream", { message: "streams count too" });
    expect(stream.status).toBe(429);
    expect(t.fake.requests).toHaveLength(3);
    // Reading a conversation calls no model and is not limited.
    expect((await fetch(`${t.baseUrl}/conversations/3f1c9a2e-0000-4000-8000-000000000000`)).status).toBe(404);
  });

  it("refuses a client's answer past its limit of answers running at once, then takes new ones", async () => {
    t = await startWeb({ web: { maxConcurrentPerClient: 2 } });
    t.fake.respond(() => slow);
    const running = [
      post(t.baseUrl, "/chat/stream", { message: "a" }),
      post(t.baseUrl, "/chat/stream", { message: "b" }),
    ];
    const opened = await Promise.all(running);
    expect(opened.map((r) => r.status)).toEqual([200, 200]);
    const third = await post(t.baseUrl, "/chat", { message: "c" });
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    expect((await third.json()).error).toMatchObject({
      code: "too_many_running",
      message: expect.stringMatching(/limit is 2/),
    });
    await Promise.all(opened.map((r) => readSse(r)));
    t.fake.respond(() => ({ text: "free again" }));
    const later = await post(t.baseUrl, "/chat", { message: "d" });
    expect((await later.json()).response).toBe("free again");
    expect(t.fake.requests).toHaveLength(3);
  });
});

describe("the global cap on model calls, on the web", () => {
  it("answers 503 with Retry-After and the reason, for /chat and before a stream opens", async () => {
    t = await startWeb({
      bot: { botOptions: { modelCalls: new ModelCallLimiter({ maxConcurrent: 1, queueTimeoutMs: 200 }) } },
    });
    t.fake.respond(() => slow);
    const holder = post(t.baseUrl, "/chat/stream", { message: "holds the one call" });
    await until(() => t!.fake.requests.length === 1);
    for (const path of ["/chat", "/chat/stream"]) {
      const res = await post(t.baseUrl, path, { message: "over the cap" });
      expect(res.status, path).toBe(503);
      expect(res.headers.get("retry-after"), path).toBeTruthy();
      expect(res.headers.get("content-type"), path).toMatch(/application\/json/);
      expect((await res.json()).error, path).toEqual({ code: "busy", message: new BusyError(0).userMessage });
    }
    expect(t.fake.requests).toHaveLength(1);
    expect((await readSse(await holder)).text).toBe(slow.chunks.join(""));
    // Nothing was stored for the refused turns.
    expect(t.fake.requests).toHaveLength(1);
  });
});
