import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusyError } from "../../src/errors.js";
import { ModelCallLimiter } from "../../src/turn/index.js";
import { appMentionEvent, messageEvent, signSlackBody, slashCommand } from "../fakes/slackEvents.js";
import {
  ALICE,
  CHANNEL,
  DM,
  type Harness,
  keep,
  SIGNING_SECRET,
  slowly,
  startHarness,
  waitForAnswer,
} from "./harness.js";

describe("Slack: a replayed signed request", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.testBot.fake.respond(() => ({ text: "noted" }));
  });
  afterAll(() => h.close());

  it("runs once: the same signed /reset sent again within the window is ignored", async () => {
    const team = h.slack.teamId;
    const conversation = `slack:${team}:${DM}`;
    const body = new URLSearchParams(slashCommand(h.slack, { channel: DM, user: ALICE.id })).toString();
    // Exactly what an eavesdropper would have captured: the body and its signature headers.
    const headers = {
      "content-type": "application/x-www-form-urlencoded",
      ...signSlackBody(SIGNING_SECRET, body),
    };
    const first = await fetch(h.eventsUrl, { method: "POST", headers, body });
    expect((await first.json()).text).toMatch(/forgot our direct-message conversation/);

    // Alice talks to the bot again after her reset.
    const ts = h.slack.nextTs();
    await h.deliver(messageEvent({ channel: DM, user: ALICE.id, text: "remember this", ts }));
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(DM).some((m) => m.text === "noted"),
      10_000,
      "the answer after the reset",
    );
    expect(await h.testBot.bot.exists(conversation)).toBe(true);

    const replay = await fetch(h.eventsUrl, { method: "POST", headers, body });
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe("");
    // The replay forgot nothing, and the log says why it was ignored.
    expect(await h.testBot.bot.exists(conversation)).toBe(true);
    expect(h.logs.some((l) => String(l.msg).includes("ignored a replayed Slack request"))).toBe(true);
  });
});

describe("Slack: HTTP events on the web server behind a proxy", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ webServer: true });
    h.testBot.fake.respond(() => ({ text: "through the proxy" }));
  });
  afterAll(() => h.close());

  it("answers events whose Host is the proxy's public name, with no setting", async () => {
    const event = appMentionEvent({
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${h.slack.botUserId}> hi`,
      ts: h.slack.nextTs(),
    });
    keep(h.slack, event);
    const body = JSON.stringify(h.envelope(event));
    const url = new URL(h.eventsUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            host: "bot.example.com",
            "content-type": "application/json",
            ...signSlackBody(SIGNING_SECRET, body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(200);
    await waitForAnswer(h, CHANNEL, event.ts, "through the proxy");
  });
});

describe("Slack: the global cap on model calls", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      bot: { botOptions: { modelCalls: new ModelCallLimiter({ maxConcurrent: 1, queueTimeoutMs: 200 }) } },
    });
  });
  afterAll(() => h.close());

  it("refuses a turn past the cap with a visible line in its thread, and calls no model for it", async () => {
    const answer = "the one answer the cap lets through, streamed slowly";
    h.testBot.fake.respond(() => slowly(answer, 30, 100));
    const mention = (text: string) => {
      const event = appMentionEvent({
        channel: CHANNEL,
        user: ALICE.id,
        text: `<@${h.slack.botUserId}> ${text}`,
        ts: h.slack.nextTs(),
      });
      return { event, send: () => h.deliver(event) };
    };
    const first = mention("first");
    await first.send();
    await h.slack.waitFor(() => h.testBot.fake.requests.length === 1, 10_000, "the first model call");
    const second = mention("second");
    await second.send();
    await waitForAnswer(h, CHANNEL, second.event.ts, `⚠️ ${new BusyError(0).userMessage}`);
    expect(h.testBot.fake.requests).toHaveLength(1);
    await waitForAnswer(h, CHANNEL, first.event.ts, answer);
    expect(h.testBot.fake.requests).toHaveLength(1);
  });
});
