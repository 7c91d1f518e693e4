import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeAnthropic } from "../fakes/anthropic.js";
import { appMentionEvent, messageEvent, slashCommand } from "../fakes/slackEvents.js";
import { ALICE, BOB, CHANNEL, type Harness, startHarness, waitForAnswer } from "./harness.js";

const OTHER = "C0OTHER";
const ADMIN = { id: "U0ADMIN", name: "ada", display_name: "Ada", is_admin: true };

/** The system prompt and the newest user message of a fake model's last request. */
function lastRequest(fake: { lastBody: unknown }): { system: string; user: string } {
  const body = fake.lastBody as { system?: unknown; messages: Array<{ role: string; content: unknown }> };
  const text = (c: unknown): string =>
    typeof c === "string" ? c : (c as Array<{ text?: string }>).map((p) => p.text ?? "").join("");
  const system = body.system !== undefined ? text(body.system) : text(body.messages[0]?.content);
  const user = [...body.messages].reverse().find((m) => m.role === "user");
  return { system, user: text(user?.content) };
}

describe("Slack: settings per channel, from chat", () => {
  let h: Harness;
  let anthropic: FakeAnthropic;
  beforeAll(async () => {
    anthropic = await FakeAnthropic.start();
    h = await startHarness({ bot: { anthropic, systemPrompt: "Default prompt." } });
    h.slack.addUser(ADMIN);
  });
  afterAll(async () => {
    await h.close();
    await anthropic.close();
  });

  const command = async (user: string, text: string, channel = CHANNEL) => {
    const res = await h.post.form(slashCommand(h.slack, { command: "/chatbot", channel, user, text }));
    expect(res.status).toBe(200);
    return ((await res.json()) as { text: string; response_type: string }).text;
  };
  const ask = async (channel: string, text: string) => {
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel, user: ALICE.id, text: `<@${h.slack.botUserId}> ${text}`, ts }),
    );
    return ts;
  };

  it("two channels set to two models of two providers get their turns there, each with its prompt", async () => {
    expect(await command(ADMIN.id, "model claude-test")).toMatch(/Set model for <#C0GENERAL> to claude-test/);
    expect(await command(ADMIN.id, "prompt You are a terse code reviewer.")).toMatch(/Set prompt/);
    expect(await command(ADMIN.id, "prompt You explain patiently.", OTHER)).toMatch(/Set prompt/);

    const openaiBefore = h.testBot.fake.requests.length;
    const eng = await ask(CHANNEL, "review this");
    await waitForAnswer(h, CHANNEL, eng, "You said: review this");
    expect(anthropic.requests.length).toBe(1);
    expect(h.testBot.fake.requests.length).toBe(openaiBefore);
    expect(lastRequest(anthropic)).toEqual({ system: "You are a terse code reviewer.", user: "review this" });

    const support = await ask(OTHER, "explain this");
    await waitForAnswer(h, OTHER, support, "You said: explain this");
    expect(h.testBot.fake.requests.length).toBe(openaiBefore + 1);
    expect(lastRequest(h.testBot.fake)).toEqual({ system: "You explain patiently.", user: "explain this" });
  });

  it("show says what applies here and where each value comes from", async () => {
    const shown = await command(BOB.id, "show");
    expect(shown).toContain("• model: claude-test (set for this channel)");
    expect(shown).toContain('• prompt: "You are a terse code reviewer." (set for this channel)');
    expect(shown).toContain("• reply-to-all: off (the bot's default)");
    expect(shown).toContain("Models the bot may use: gpt-test, claude-test.");
  });

  it("refuses a change by someone who is not an admin, and nothing changes", async () => {
    const answer = await command(BOB.id, "model gpt-test --workspace");
    expect(answer).toMatch(/Only workspace or server admins/);
    expect(
      await h.testBot.settings.at({ platform: "slack", workspace: h.slack.teamId }, "workspace"),
    ).toEqual({});
    expect(await command(BOB.id, "show")).toContain("• model: claude-test (set for this channel)");
  });

  it("writes an audit line for every change: who, where, what, old -> new", async () => {
    await command(ADMIN.id, "memory off --workspace");
    const audit = h.logs.map((l) => l.audit as Record<string, unknown> | undefined).filter(Boolean);
    expect(audit.at(-1)).toEqual({
      who: { id: ADMIN.id, name: "Ada" },
      where: { platform: "slack", workspace: h.slack.teamId, scope: "workspace" },
      what: "memory",
      old: null,
      new: false,
    });
    expect(audit.some((a) => a?.what === "prompt" && a.new === "You are a terse code reviewer.")).toBe(true);
    await command(ADMIN.id, "memory clear --workspace");
  });

  it("with memory off, a turn sends no history and stores nothing", async () => {
    await command(ADMIN.id, "memory off", OTHER);
    const first = await ask(OTHER, "remember the number 7");
    await waitForAnswer(h, OTHER, first, "You said: remember the number 7");
    const conversation = `slack:${h.slack.teamId}:${OTHER}:${first}`;
    expect(await h.testBot.bot.exists(conversation)).toBe(false);
    await command(ADMIN.id, "memory on", OTHER);
  });

  it("a wrong value gets the usage and changes nothing", async () => {
    expect(await command(ADMIN.id, "model gpt-5-imaginary")).toMatch(/There is no model "gpt-5-imaginary"/);
    expect(await command(ADMIN.id, "reply-to-all maybe")).toMatch(/Say `reply-to-all on`, `off` or `clear`/);
    expect(await command(ADMIN.id, "colour blue")).toMatch(/There is no setting "colour"/);
  });
});

describe("Slack: reply-to-all", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ bot: { admins: [ALICE.id] } });
  });
  afterAll(() => h.close());

  it("answers an unmentioned message in the channel set to it, and only there", async () => {
    const res = await h.post.form(
      slashCommand(h.slack, {
        command: "/chatbot",
        channel: CHANNEL,
        user: ALICE.id,
        text: "reply-to-all on",
      }),
    );
    expect(((await res.json()) as { text: string }).text).toMatch(/Set reply-to-all for <#C0GENERAL> to on/);
    const here = h.slack.nextTs();
    await h.deliver(
      messageEvent({ channel: CHANNEL, user: BOB.id, text: "anyone know why CI is red?", ts: here }),
    );
    await waitForAnswer(h, CHANNEL, here, "You said: anyone know why CI is red?");

    const elsewhere = h.slack.nextTs();
    const requests = h.testBot.fake.requests.length;
    await h.deliver(messageEvent({ channel: OTHER, user: BOB.id, text: "just chatting", ts: elsewhere }));
    const mentioned = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({
        channel: OTHER,
        user: BOB.id,
        text: `<@${h.slack.botUserId}> now you`,
        ts: mentioned,
      }),
    );
    await waitForAnswer(h, OTHER, mentioned, "You said: now you");
    expect(h.slack.botMessagesIn(OTHER, elsewhere)).toEqual([]);
    expect(h.testBot.fake.requests.length).toBe(requests + 1);
  });
});

describe("Slack: who may use the bot", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("a blocked user's message reaches no model and no memory; they are told once, only them", async () => {
    h = await startHarness({ bot: { access: { blockUsers: [BOB.id] } } });
    const refused: string[] = [];
    for (const text of ["hello?", "hello again?"]) {
      const ts = h.slack.nextTs();
      refused.push(ts);
      await h.deliver(
        appMentionEvent({ channel: CHANNEL, user: BOB.id, text: `<@${h.slack.botUserId}> ${text}`, ts }),
      );
    }
    const ok = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> hi`, ts: ok }),
    );
    await waitForAnswer(h, CHANNEL, ok, "You said: hi");
    expect(h.testBot.fake.requests.map((r) => JSON.stringify(r.body))).not.toContainEqual(
      expect.stringContaining("hello"),
    );
    expect(h.slack.ephemerals).toEqual([
      {
        channel: CHANNEL,
        user: BOB.id,
        text: "Sorry, the people running this bot have not given you access to it.",
      },
    ]);
    expect(h.slack.botMessagesIn(CHANNEL).some((m) => m.text.includes("hello"))).toBe(false);
    for (const ts of refused) {
      expect(await h.testBot.bot.exists(`slack:${h.slack.teamId}:${CHANNEL}:${ts}`)).toBe(false);
      expect(
        await h.testBot.store.state.get(`slack:joined:${h.slack.teamId}:${CHANNEL}:${ts}`),
      ).toBeUndefined();
    }
  });
});
