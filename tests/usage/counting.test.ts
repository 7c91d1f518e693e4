import { afterEach, describe, expect, it } from "vitest";
import { countOpenAITokens, estimateAnthropicTokens } from "../../src/memory/tokens.js";
import { Metrics } from "../../src/metrics.js";
import type { StreamItem } from "../../src/stream/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { FakeAnthropic } from "../fakes/anthropic.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";

const place = { platform: "slack", workspace: "T1", channel: "C1" };
let n = 0;
function ask(text: string, user = "U1"): Incoming {
  n++;
  return {
    conversationId: `slack:T1:C1:${n}`,
    author: { id: user, name: user },
    text,
    platform: "slack",
    place,
  };
}

async function run(t: TestBot, incoming: Incoming): Promise<{ text: string; notices: string[] }> {
  let text = "";
  const notices: string[] = [];
  for await (const item of t.bot.reply(incoming) as AsyncIterable<StreamItem>) {
    if (typeof item === "string") text += item;
    else if (item.type === "notice") notices.push(item.text);
  }
  return { text, notices };
}

describe("usage: each turn counts what the provider reported", () => {
  let t: TestBot | undefined;
  let anthropic: FakeAnthropic | undefined;
  afterEach(async () => {
    await t?.close();
    await anthropic?.close();
    t = undefined;
    anthropic = undefined;
  });

  it("OpenAI: the usage chunk's prompt, completion and cached tokens are stored per user, channel, workspace and model", async () => {
    t = await makeTestBot({ usage: { prices: { "gpt-test": { input: 2, output: 8, cachedInput: 1 } } } });
    t.fake.enqueue(
      { text: "First answer." },
      { text: "Second, with a cache hit.", usage: { cachedInputTokens: 6 } },
    );
    await run(t, ask("hello"));
    await run(t, ask("again"));
    expect(t.fake.requests.every((r) => r.body.stream_options?.include_usage === true)).toBe(true);
    const reported = t.fake.usageReported;
    expect(reported).toHaveLength(2);
    const input = reported.reduce((s, u) => s + u.inputTokens + u.cachedInputTokens, 0);
    const output = reported.reduce((s, u) => s + u.outputTokens, 0);
    const summary = await t.usage.summary(place, "U1");
    expect(summary.user.today).toEqual({
      turns: 2,
      inputTokens: input,
      outputTokens: output,
      cachedInputTokens: 6,
      estimatedTurns: 0,
      cost: expect.closeTo(((input - 6) * 2 + 6 * 1 + output * 8) / 1e6, 12),
    });
    expect(summary.channel?.today).toEqual(summary.user.today);
    expect(summary.workspace.month).toEqual(summary.user.today);
    const rows = await t.usage.rows(Date.UTC(2000, 0, 1), Date.now());
    const model = rows.find((r) => r.dimension === "model");
    expect(model).toMatchObject({ id: "gpt-test", turns: 2, inputTokens: input, outputTokens: output });
  });

  it("Anthropic: message_start's input (with cache reads and writes) and message_delta's output", async () => {
    anthropic = await FakeAnthropic.start();
    t = await makeTestBot({ anthropic });
    await t.settings.set(place, "channel", "model", "claude-test", { id: "A", name: "admin" });
    anthropic.enqueue({ text: "Claude says hi.", usage: { cachedInputTokens: 40, cacheWriteTokens: 12 } });
    await run(t, ask("hi claude"));
    const [u] = anthropic.usageReported;
    expect(u?.cachedInputTokens).toBe(40);
    const today = (await t.usage.summary(place, "U1")).user.today;
    expect(today).toMatchObject({
      turns: 1,
      inputTokens: (u?.inputTokens ?? 0) + 40 + 12,
      outputTokens: u?.outputTokens,
      cachedInputTokens: 40,
      estimatedTurns: 0,
    });
    const rows = await t.usage.rows(Date.UTC(2000, 0, 1), Date.now());
    expect(rows.find((r) => r.dimension === "model")?.id).toBe("claude-test");
  });

  it("Anthropic cut short after message_start: its input as reported, the output estimated", async () => {
    anthropic = await FakeAnthropic.start();
    t = await makeTestBot({ anthropic });
    await t.settings.set(place, "channel", "model", "claude-test", { id: "A", name: "admin" });
    anthropic.enqueue({
      chunks: ["Half ", "an answer", " never"],
      cutAfterChunks: 2,
      usage: { inputTokens: 77 },
    });
    await expect(run(t, ask("tell me"))).rejects.toMatchObject({ code: "network" });
    expect(anthropic.usageReported).toHaveLength(0);
    const today = (await t.usage.summary(place, "U1")).user.today;
    expect(today).toMatchObject({
      turns: 1,
      inputTokens: 77,
      outputTokens: estimateAnthropicTokens("Half an answer"),
      estimatedTurns: 1,
    });
  });

  it("an OpenAI-compatible server that reports no usage: counted with the tokenizer, marked estimated", async () => {
    t = await makeTestBot({ systemPrompt: "Be brief." });
    t.fake.sendsUsage = false;
    t.fake.enqueue({ text: "An answer counted locally." });
    await run(t, ask("count me"));
    expect(t.fake.usageReported).toHaveLength(0);
    expect(t.fake.lastBody.stream_options).toEqual({ include_usage: true });
    const today = (await t.usage.summary(place, "U1")).user.today;
    const sent = t.fake.lastBody.messages as Array<{ content: string }>;
    expect(today).toEqual({
      turns: 1,
      inputTokens: sent.reduce((s, m) => s + 4 + countOpenAITokens(m.content), 0),
      outputTokens: countOpenAITokens("An answer counted locally."),
      cachedInputTokens: 0,
      estimatedTurns: 1,
      cost: 0,
    });
  });

  it("a stream cut short is counted too: the tokenizer's figure for what was written, marked estimated", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ chunks: ["Part one", ", part two", " never"], cutAfterChunks: 2 });
    await expect(run(t, ask("go"))).rejects.toMatchObject({ code: "network" });
    const today = (await t.usage.summary(place, "U1")).user.today;
    expect(today).toMatchObject({
      turns: 1,
      outputTokens: countOpenAITokens("Part one, part two"),
      estimatedTurns: 1,
    });
  });

  it("a request the provider refused is not counted", async () => {
    t = await makeTestBot();
    t.fake.enqueue({ status: 401 });
    await expect(run(t, ask("hi"))).rejects.toMatchObject({ code: "auth" });
    expect((await t.usage.summary(place, "U1")).user.today.turns).toBe(0);
  });

  it("/metrics counts tokens by platform, provider and model, never by user", async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    t = await makeTestBot({
      usage: { prices: { "gpt-test": { input: 1, output: 1 } } },
      botOptions: { onTurn: (stats) => metrics.recordTurn(stats) },
    });
    t.fake.enqueue({ text: "Metered.", usage: { inputTokens: 30, outputTokens: 5, cachedInputTokens: 10 } });
    await run(t, ask("meter me"));
    const text = await metrics.text();
    const labels = 'platform="slack",provider="openai",model="gpt-test"';
    expect(text).toContain(`chatbot_tokens_total{${labels},kind="input"} 40`);
    expect(text).toContain(`chatbot_tokens_total{${labels},kind="output"} 5`);
    expect(text).toContain(`chatbot_tokens_total{${labels},kind="cached_input"} 10`);
    expect(text).toContain(`chatbot_cost_total{${labels}} 0.000045`);
    expect(text).not.toContain("U1");
  });
});
