import { fastify } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlack } from "../../adapters/slack/index.js";
import { StartError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { FakeSlack } from "../fakes/slack.js";
import { appMentionEvent, messageEvent } from "../fakes/slackEvents.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";
import { ALICE, CHANNEL, CURSOR, DM, type Harness, startHarness } from "./harness.js";

describe("Slack: start-up", () => {
  let slack: FakeSlack;
  let testBot: TestBot;
  beforeAll(async () => {
    slack = await FakeSlack.start();
    testBot = await makeTestBot();
  });
  afterAll(async () => {
    await testBot.close();
    await slack.close();
  });

  const config = {
    botToken: "xoxb-test-token-0000",
    appToken: undefined,
    signingSecret: "secret",
    requireMention: false,
    editsPerMinute: 50,
    streaming: "auto" as const,
    suggestedPrompts: [],
  };

  it("refuses a token Slack rejects, saying which", async () => {
    const http = fastify();
    const start = startSlack({
      bot: testBot.bot,
      turns: testBot.turns,
      settings: testBot.settings,
      access: testBot.access,
      usage: testBot.usage,
      config: { ...config, botToken: "xoxb-wrong-token", apiUrl: slack.apiUrl },
      cursor: CURSOR,
      log: silentLogger(),
      http,
    });
    await expect(start).rejects.toBeInstanceOf(StartError);
    await expect(start).rejects.toThrow(/SLACK_BOT_TOKEN.*invalid_auth/);
    await http.close();
  });

  it("needs a signing secret and a server for HTTP events", async () => {
    const base = {
      ...{
        bot: testBot.bot,
        turns: testBot.turns,
        settings: testBot.settings,
        access: testBot.access,
        usage: testBot.usage,
      },
      ...{ cursor: CURSOR, log: silentLogger() },
    };
    await expect(
      startSlack({
        ...base,
        config: { ...config, signingSecret: undefined, apiUrl: slack.apiUrl },
        http: fastify(),
      }),
    ).rejects.toThrow(/SLACK_SIGNING_SECRET/);
    await expect(startSlack({ ...base, config: { ...config, apiUrl: slack.apiUrl } })).rejects.toThrow(
      /web server/,
    );
  });
});

describe("Slack: shutdown and model failures", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it("ends a failed model call with a warning instead of a cursor", async () => {
    h.testBot.fake.respond(() => ({ status: 401 }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> hi`, ts }),
    );
    await h.slack.waitFor(
      () => /API key/.test(h.slack.botMessagesIn(CHANNEL, ts)[0]?.text ?? ""),
      10_000,
      "the warning",
    );
    expect(h.slack.botMessagesIn(CHANNEL, ts)[0]!.text).not.toContain(CURSOR);
  });

  it("on stop, finishes an answer still being written instead of leaving a cursor", async () => {
    h.testBot.fake.respond(() => ({
      chunks: ["Half of ", "an answer", " never finished"],
      stallAfterChunks: 2,
    }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> go`, ts }),
    );
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(CHANNEL, ts)[0]?.text === `Half of an answer${CURSOR}`,
      10_000,
      "the partial answer",
    );
    await h.handle.stop(50);
    const text = h.slack.botMessagesIn(CHANNEL, ts)[0]!.text.replace(/\u200B/g, "");
    expect(text).toMatch(
      /^Half of an answer\s+_The bot restarted before finishing this answer\. Please ask again\._$/,
    );
    // No longer taking events.
    const res = await h.post.event(
      h.envelope(appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: "late", ts: h.slack.nextTs() })),
    );
    expect(res.status).toBe(503);
  });
});

describe("Slack: shutdown during a native stream", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it("on stop, ends a native stream still being written with the restart note, and removes its Stop control", async () => {
    h.testBot.fake.respond(() => ({
      chunks: ["Streamed ", "halfway"],
      chunkDelayMs: 30,
      stallAfterChunks: 2,
    }));
    const parent = h.slack.addMessage({ channel: DM, user: ALICE.id, text: "a chat" });
    await h.deliver(
      messageEvent({ channel: DM, user: ALICE.id, text: "go", ts: h.slack.nextTs(), thread_ts: parent.ts }),
    );
    const stream = () => h.slack.botMessagesIn(DM, parent.ts).find((m) => m.stream);
    await h.slack.waitFor(
      () => stream()?.text === "Streamed halfway" && h.slack.botMessagesIn(DM, parent.ts).length === 2,
      10_000,
      "the stream and its Stop control",
    );
    await h.handle.stop(50);
    expect(stream()!.stream!.open).toBe(false);
    expect(stream()!.text).toBe(
      "Streamed halfway\n\n_The bot restarted before finishing this answer. Please ask again._",
    );
    expect(h.slack.botMessagesIn(DM, parent.ts)).toHaveLength(1);
  });
});
