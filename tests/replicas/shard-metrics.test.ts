import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alive, Sharded, until } from "../discord/sharded.js";
import { type FakeChannel, FakeDiscord, type FakeGuild, shardOf } from "../fakes/discord.js";
import { lastUserText } from "../fakes/llm-server.js";
import { FakeOpenAI } from "../fakes/openai.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

/**
 * A sharded bot (src/main.ts --shards, two shard processes under one manager)
 * against a fake Discord that routes each guild to its shard, sharing the
 * real Redis or Postgres: shard 0's /metrics and /ready cover both shards,
 * gathered from the other shard through the manager.
 */
describe.each(["redis", "postgres"] as const)("one view of a sharded bot on %s", (backend) => {
  let discord: FakeDiscord | undefined;
  let model: FakeOpenAI | undefined;
  let run: Sharded | undefined;
  let second: FakeGuild & { general: FakeChannel };
  let web = "";

  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    discord = await FakeDiscord.start({ recommendedShards: 2 });
    const home = shardOf(discord.world.guildId, 2);
    second = discord.world.addGuild("Second Server", { onShard: [1 - home, 2] });
    model = await FakeOpenAI.start();
    model.respond((body) => ({ text: `You said: ${lastUserText(body)}` }));
    run = Sharded.start({
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_SHARDS: "2",
      DISCORD_SHARD_SPAWN_DELAY_MS: "0",
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: "sk-test-shards",
      LLM_MODEL: "gpt-test",
      LLM_MAX_RETRIES: "0",
      STORE_URL: BACKENDS[backend],
      METRICS_ENABLED: "true",
      SHUTDOWN_TIMEOUT_MS: "1000",
    });
    await run.ready();
    const line = await waitForLine(run, /^Web: chat page and API at (http:\/\/127\.0\.0\.1:\d+)\//);
    web = line[1] as string;
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail" || !run) return;
    const problems = run.output
      .split("\n")
      .filter((l) => /"level":(4|5|6)\d/.test(l) || (l.trim() !== "" && !l.startsWith("{")));
    console.error(`the sharded bot logged:\n${problems.join("\n")}`);
  });

  afterAll(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill("SIGTERM");
      await run.exited;
    }
    for (const pid of [...(run?.pidsOf(0) ?? []), ...(run?.pidsOf(1) ?? [])]) {
      await until(() => !alive(pid), `shard pid ${pid} to stop`, 15_000).catch(() => {
        if (alive(pid)) process.kill(pid, "SIGKILL");
      });
    }
    await model?.close();
    await discord?.close();
  });

  it("shard 0's /metrics shows the turns of both shards, each labelled with its shard; /ready covers both", async (ctx) => {
    if (!discord || !run || !web) return ctx.skip();
    const { world } = discord;
    discord.say({ channel: world.general, content: `<@${world.botUser.id}> hello from the first server` });
    discord.say({ channel: second.general, content: `<@${world.botUser.id}> hello from the second server` });
    await discord.waitForBotText(world.general.id, "You said: hello from the first server");
    await discord.waitForBotText(second.general.id, "You said: hello from the second server");

    const home = shardOf(world.guildId, 2);
    const turns = (text: string, shard: number) =>
      text
        .split("\n")
        .filter((l) => l.startsWith("chatbot_turns_total{") && l.includes(`shard="${shard}"`))
        .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
    // A turn is counted once its final edit is made; poll until both shards' counts are in.
    let text = "";
    for (let i = 0; i < 60 && !(turns(text, home) === 1 && turns(text, 1 - home) === 1); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      text = await (await fetch(`${web}/metrics`)).text();
    }
    expect(turns(text, home)).toBe(1);
    expect(turns(text, 1 - home)).toBe(1);
    expect(text).toMatch(/^# TYPE chatbot_turns_total counter$/m);
    // One family per metric, however many shards: a Prometheus scrape accepts it.
    expect(text.match(/^# TYPE chatbot_turns_total /gm)).toHaveLength(1);

    // Every shard answers within the check's 2 s; on a loaded machine, ask again until it does.
    let ready = await fetch(`${web}/ready`);
    for (let i = 0; i < 20 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 500));
      ready = await fetch(`${web}/ready`);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      checks: { accepting: true, store: true, discord: true, shards: true },
    });
  });
});

async function waitForLine(run: Sharded, pattern: RegExp): Promise<RegExpMatchArray> {
  const find = () => run.lines().flatMap((l) => l.msg.match(pattern) ?? [])[0];
  await until(
    () => find() !== undefined,
    `a line matching ${pattern}`,
    20_000,
    () => run.output,
  );
  return run
    .lines()
    .map((l) => l.msg.match(pattern))
    .find((m) => m !== null) as RegExpMatchArray;
}
