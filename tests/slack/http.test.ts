import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, type Harness, keep, startHarness, waitForAnswer } from "./harness.js";

describe("Slack: HTTP events endpoint", () => {
  let h: Harness;
  let bot: string;
  beforeAll(async () => {
    h = await startHarness();
    bot = h.slack.botUserId;
    h.testBot.fake.respond(() => ({ text: "signed and answered" }));
  });
  afterAll(() => h.close());

  const mention = () => {
    const event = appMentionEvent({
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${bot}> hi`,
      ts: h.slack.nextTs(),
    });
    keep(h.slack, event);
    return { event, envelope: h.envelope(event) };
  };

  it("answers Slack's url_verification challenge", async () => {
    const res = await h.post.event({
      token: "t",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      type: "url_verification",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
  });

  it("rejects a bad, missing or stale signature with 401 and runs nothing", async () => {
    const apiCalls = h.slack.calls.length;
    const bad = await h.post.event(mention().envelope, { secret: "not-the-secret" });
    const unsigned = await h.post.event(mention().envelope, { unsigned: true });
    const stale = await h.post.event(mention().envelope, {
      timestampS: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    const future = await h.post.event(mention().envelope, {
      timestampS: Math.floor(Date.now() / 1000) + 6 * 60,
    });
    const challenge = await h.post.event({ type: "url_verification", challenge: "x" }, { secret: "wrong" });
    expect([bad.status, unsigned.status, stale.status, future.status, challenge.status]).toEqual([
      401, 401, 401, 401, 401,
    ]);

    // A good request afterwards is the only one answered.
    const good = mention();
    expect((await h.post.event(good.envelope)).status).toBe(200);
    await waitForAnswer(h, CHANNEL, good.event.ts, "signed and answered");
    expect(h.testBot.fake.requests).toHaveLength(1);
    const methods = h.slack.calls.slice(apiCalls).map((c) => c.method);
    expect(methods.filter((m) => m === "chat.postMessage")).toHaveLength(1);
  });

  it("acknowledges at once, before the answer is written", async () => {
    h.testBot.fake.respond(() => ({ text: "slow answer", firstDelayMs: 1_500 }));
    const { event, envelope } = mention();
    const res = await h.post.event(envelope);
    expect(res.status).toBe(200);
    // The ack came back while the model had not answered yet.
    expect(h.slack.botMessagesIn(CHANNEL, event.ts).map((m) => m.text)).not.toContain("slow answer");
    await waitForAnswer(h, CHANNEL, event.ts, "slow answer");
  });

  it("answers Slack's ssl_check without a signature, and leaves other routes alone", async () => {
    const res = await fetch(h.eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "ssl_check=1&token=x",
    });
    expect(res.status).toBe(200);
    const other = await fetch(h.eventsUrl.replace("/slack/events", "/elsewhere"), { method: "POST" });
    expect(other.status).toBe(404);
  });
});
