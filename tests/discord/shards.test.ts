import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESET_DONE } from "../../adapters/discord/commands.js";
import { silentLogger } from "../../src/log.js";
import { createStore } from "../../src/memory/store.js";
import type { ConversationStore } from "../../src/memory/types.js";
import { type FakeChannel, FakeDiscord, type FakeGuild, shardOf } from "../fakes/discord.js";
import { lastUserText } from "../fakes/llm-server.js";
import { FakeOpenAI } from "../fakes/openai.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { slowly } from "../slack/harness.js";
import { alive, Sharded, until } from "./sharded.js";

const CURSOR = "▌";

describe("the sharded entry on its own", () => {
  it("will not run several shards on SQLite, and says what to use instead", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chatbot-shards-"));
    const run = Sharded.start({
      DISCORD_TOKEN: "fake-token.not-real",
      DISCORD_SHARDS: "2",
      STORE_URL: `sqlite://${join(dir, "s.sqlite")}`,
    });
    expect(await run.exited).toBe(1);
    expect(run.output).toMatch(/set STORE_URL to redis:\/\/host:6379 or postgres:\/\//);
    expect(run.output).not.toContain("started (pid");
  });

  it("a shard stops by itself when its manager is killed, so no orphan keeps answering", async () => {
    const discord = await FakeDiscord.start();
    const dir = mkdtempSync(join(tmpdir(), "chatbot-shards-"));
    const run = Sharded.start({
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_SHARDS: "1",
      STORE_URL: `sqlite://${join(dir, "s.sqlite")}`,
    });
    try {
      await run.ready();
      const [shard] = run.pidsOf(0);
      expect(discord.gateway.identifies.map((i) => i.shard)).toEqual([[0, 1]]);
      run.child.kill("SIGKILL");
      await until(
        () => !alive(shard!),
        "the orphaned shard to stop",
        15_000,
        () => run.output,
      );
      const said = run
        .lines()
        .filter((l) => l.pid === shard)
        .map((l) => l.msg);
      expect(said).toContain("Discord: the shard manager is gone; stopping this shard");
      // It went through the bot's own graceful shutdown, not a crash.
      expect(said.at(-1)).toBe("stopped");
      expect(discord.gateway.connected).toBe(false);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
      for (const pid of run.pidsOf(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
      await discord.close();
    }
  });
});

/**
 * Two shards (Discord recommends 2) of the bot as separate processes under one
 * manager, against a fake Discord whose gateway routes each guild's events to
 * its shard only, sharing the real Redis of this machine.
 */
describe("two Discord shards sharing Redis", () => {
  let redisUp = false;
  let discord: FakeDiscord | undefined;
  let model: FakeOpenAI | undefined;
  let store: ConversationStore | undefined;
  let run: Sharded | undefined;
  /** The shard the first guild lands on, and a second guild on the other one. */
  let homeShard = 0;
  let second: FakeGuild & { general: FakeChannel };
  /** The conversations the first mentions started (a plain channel's conversation is named by its first message). */
  let first = "";
  let other = "";

  beforeAll(async () => {
    redisUp = await backendAvailable("redis");
    if (!redisUp) return;
    discord = await FakeDiscord.start({ recommendedShards: 2 });
    homeShard = shardOf(discord.world.guildId, 2);
    second = discord.world.addGuild("Second Server", { onShard: [1 - homeShard, 2] });
    model = await FakeOpenAI.start();
    model.respond((body) => {
      const question = lastUserText(body);
      const answer = `You said: ${question}`;
      return question.includes("SLOW") ? slowly(answer, 12, 120) : { text: answer };
    });
    store = createStore(BACKENDS.redis, { maxMessages: 100, ttlMs: 3_600_000, log: silentLogger() });
    run = Sharded.start({
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_SHARDS: "auto",
      DISCORD_SHARD_SPAWN_DELAY_MS: "0",
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: "sk-test-shards",
      LLM_MODEL: "gpt-test",
      LLM_MAX_RETRIES: "0",
      STORE_URL: BACKENDS.redis,
      SHUTDOWN_TIMEOUT_MS: "8000",
    });
    await run.ready();
  });

  afterAll(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
    // Shards stop by themselves when their manager is gone; make sure none outlives the test.
    for (const pid of [...(run?.pidsOf(0) ?? []), ...(run?.pidsOf(1) ?? [])]) {
      await until(() => !alive(pid), `shard pid ${pid} to stop`, 15_000).catch(() => {
        if (alive(pid)) process.kill(pid, "SIGKILL");
      });
    }
    await store?.close();
    await model?.close();
    await discord?.close();
  });

  it("starts the recommended two shards; each IDENTIFYs as its own [id, 2]; only shard 0 serves web and commands", async (ctx) => {
    if (!redisUp || !discord || !run) return ctx.skip();
    // Logs reach us asynchronously (pino writes in the background): wait for the start-up summaries.
    for (let i = 0; i < 200 && !run.lines().some((l) => l.msg === "Web: off, not in --surfaces=discord"); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(run.output).toContain("Discord: 2 shards (Discord's recommendation)");
    expect(discord.gateway.identifies.map((i) => i.shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(discord.gateway.identifies.every((i) => i.token === discord!.token)).toBe(true);

    const [zero] = run.pidsOf(0);
    const [one] = run.pidsOf(1);
    const lines = run.lines();
    expect(lines.filter((l) => l.msg.startsWith("Web: chat page and API at")).map((l) => l.pid)).toEqual([
      zero,
    ]);
    expect(lines.filter((l) => l.msg === "Web: off, not in --surfaces=discord").map((l) => l.pid)).toEqual([
      one,
    ]);
    // /reset is per application: one shard registers it, not every one.
    expect(discord.callsTo("GET", /^\/applications\/\d+\/commands$/)).toHaveLength(1);
    expect(discord.commands.get("global")?.map((c) => c.name)).toEqual(["reset", "config", "usage"]);
  });

  it("answers a mention in each guild exactly once, by the shard that holds the guild, and DMs on shard 0", async (ctx) => {
    if (!redisUp || !discord || !run || !model) return ctx.skip();
    const { world } = discord;
    const asked = discord.say({
      channel: world.general,
      content: `<@${world.botUser.id}> hello from the first server`,
    });
    const askedOther = discord.say({
      channel: second.general,
      content: `<@${world.botUser.id}> hello from the second server`,
    });
    first = `discord:${world.guildId}:${world.general.id}:${asked}`;
    other = `discord:${second.id}:${second.general.id}:${askedOther}`;
    discord.say({ channel: world.aliceDm, content: "hello in a DM" });
    await discord.waitForBotText(world.general.id, "You said: hello from the first server");
    await discord.waitForBotText(second.general.id, "You said: hello from the second server");
    await discord.waitForBotText(world.aliceDm.id, "You said: hello in a DM");

    for (const channel of [world.general, second.general, world.aliceDm]) {
      expect(discord.botMessages(channel.id)).toHaveLength(1);
    }
    for (const q of ["hello from the first server", "hello from the second server", "hello in a DM"]) {
      expect(model.requests.filter((r) => lastUserText(r.body) === q)).toHaveLength(1);
    }
    const dm = `discord:dm:${world.aliceDm.id}`;
    // A turn's log line can trail its final edit a little.
    const logged = () => [first, other, dm].every((id) => run!.answeredBy(id).length === 1);
    await until(logged, "the three turns to be logged");
    expect(run.answeredBy(first)).toEqual([run.pidsOf(homeShard)[0]]);
    expect(run.answeredBy(other)).toEqual([run.pidsOf(1 - homeShard)[0]]);
    expect(run.answeredBy(dm)).toEqual([run.pidsOf(0)[0]]);
  });

  it("keeps every conversation in the one shared store: a crashed shard comes back and remembers, /reset forgets", async (ctx) => {
    if (!redisUp || !discord || !run || !model || !store) return ctx.skip();
    const { world } = discord;
    // Both shards wrote to the same Redis.
    expect((await store.history(first)).map((m) => [m.role, m.text])).toEqual([
      ["user", "hello from the first server"],
      ["assistant", "You said: hello from the first server"],
    ]);
    expect(await store.exists(other)).toBe(true);

    const crashed = run.pidsOf(1 - homeShard)[0]!;
    process.kill(crashed, "SIGKILL");
    const output = () => run!.output;
    await until(
      () => run!.pidsOf(1 - homeShard).length === 2,
      "the crashed shard to be restarted",
      20_000,
      output,
    );
    await until(
      () =>
        discord!.gateway.identifies.filter((i) => i.shard?.[0] === 1 - homeShard).length === 2 &&
        discord!.gateway.connected,
      "the restarted shard to connect",
      20_000,
      output,
    );
    // A reply to the bot's answer continues that conversation.
    discord.say({
      channel: second.general,
      content: "do you remember me?",
      replyTo: discord.botMessages(second.general.id)[0]!.id,
    });
    await discord.waitForBotText(second.general.id, "You said: do you remember me?");
    const asked = model.requests.find((r) => lastUserText(r.body) === "do you remember me?")!;
    const said = (asked.body.messages as Array<{ role: string; content: string }>)
      .filter((m) => m.role !== "system")
      .map((m) => m.content);
    expect(said).toEqual([
      "hello from the second server",
      "You said: hello from the second server",
      "do you remember me?",
    ]);
    await until(() => run!.answeredBy(other).length === 2, "the follow-up's turn to be logged");
    expect(run.answeredBy(other)).toEqual(run.pidsOf(1 - homeShard));

    // /reset in the first guild (on its shard) forgets that conversation only.
    const interaction = discord.slash({ channel: world.general });
    const callback = await discord.waitFor(
      () => discord!.interactionCallbacks.find((c) => c.interactionId === interaction),
      "the /reset answer",
    );
    expect(callback.body.data.content).toBe(RESET_DONE);
    expect(await store.exists(first)).toBe(false);
    expect(await store.exists(other)).toBe(true);
  });

  it("on SIGTERM, every shard finishes its answer in flight with a final edit, and all processes exit 0", async (ctx) => {
    if (!redisUp || !discord || !run) return ctx.skip();
    const { world } = discord;
    const pids = [run.pidsOf(0).at(-1)!, run.pidsOf(1).at(-1)!];
    discord.say({ channel: world.general, content: `<@${world.botUser.id}> SLOW one in the first server` });
    discord.say({ channel: second.general, content: `<@${world.botUser.id}> SLOW one in the second server` });
    const streaming = (channel: FakeChannel) =>
      discord!.botMessages(channel.id).some((m) => m.content.endsWith(CURSOR));
    await until(() => streaming(world.general) && streaming(second.general), "both answers to be streaming");

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(discord.botMessages(world.general.id).at(-1)?.content).toBe(
      "You said: SLOW one in the first server",
    );
    expect(discord.botMessages(second.general.id).at(-1)?.content).toBe(
      "You said: SLOW one in the second server",
    );
    expect(pids.filter(alive)).toEqual([]);
    // Each shard and the manager went through their graceful shutdown (nothing was killed).
    const stopped = run
      .lines()
      .filter((l) => l.msg === "stopped")
      .map((l) => l.pid);
    expect(stopped.sort()).toEqual([...pids, run.child.pid].sort());
  });
});
