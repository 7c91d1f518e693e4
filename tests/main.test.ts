import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeOpenAI } from "./fakes/openai.js";
import { killStartedBots, openStream, type Running, startBot, until } from "./helpers/process.js";

const root = new URL("..", import.meta.url).pathname;

// Real processes: on a busy machine one start alone can take 20 s.
describe("the bot process", { timeout: 120_000 }, () => {
  let fake: FakeOpenAI | undefined;
  let bot: Running | undefined;
  afterEach(async () => {
    if (bot && bot.child.exitCode === null) bot.child.kill("SIGKILL");
    killStartedBots();
    await fake?.close();
  });

  it("says what it started and skipped, and on SIGTERM lets a turn in flight finish, then exits 0", async () => {
    fake = await FakeOpenAI.start();
    const answer = "a steady answer that takes about a second to stream";
    fake.respond(() => ({ text: answer, chunkDelayMs: 60 }));
    bot = await startBot({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: "sk-test-0123456789",
      LLM_MODEL: "m",
    });
    const out = bot.output();
    expect(out).toContain("Slack: off, SLACK_BOT_TOKEN is not set");
    expect(out).toContain("Discord: off, DISCORD_TOKEN is not set");
    expect(out).toContain(`Model m (default): openai m at ${fake.baseUrl}`);
    expect(out).toMatch(/Memory: sqlite/);
    expect(out).not.toContain("sk-test-0123456789");

    const stream = await openStream(bot.baseUrl, "hello");
    await until(() => stream.events.some((e) => e.event === "token"));
    bot.child.kill("SIGTERM");
    await until(() => bot!.output().includes("shutting down"));
    // While draining: not ready (a load balancer stops sending), and a new chat is told to retry.
    const ready = await fetch(`${bot.baseUrl}/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.accepting).toBe(false);
    const refused = await fetch(`${bot.baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "one more" }),
    });
    expect(refused.status).toBe(503);
    const refusedStream = await fetch(`${bot.baseUrl}/chat/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "and one more" }),
    });
    expect(refusedStream.status).toBe(503);
    expect((await refusedStream.json()).error.code).toBe("unavailable");
    expect((await refused.json()).error).toMatchObject({
      code: "unavailable",
      message: expect.stringMatching(/restarting/),
    });
    await stream.done;
    expect(
      stream.events
        .filter((e) => e.event === "token")
        .map((e) => e.data)
        .join(""),
    ).toBe(answer);
    expect(stream.events.at(-1)?.event).toBe("done");
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain("stopped");
  });

  it("cuts off a turn that outlasts SHUTDOWN_TIMEOUT_MS with a note, and still exits 0", async () => {
    fake = await FakeOpenAI.start();
    fake.respond(() => ({ text: "x".repeat(200), chunkDelayMs: 100 }));
    bot = await startBot({
      OPENAI_BASE_URL: fake.baseUrl,
      LLM_MODEL: "m",
      SHUTDOWN_TIMEOUT_MS: "300",
    });
    const stream = await openStream(bot.baseUrl, "long one");
    await until(() => stream.events.some((e) => e.event === "token"));
    bot.child.kill("SIGTERM");
    await stream.done;
    const last = stream.events.at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data).toMatch(/restarted before finishing/);
    expect(await bot.exited).toBe(0);
  });

  it("a bad setting stops start-up with a message naming the variable", async () => {
    const child = spawn(join(root, "node_modules/.bin/tsx"), ["src/main.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LLM_TEMPERATURE: "hot", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (c) => (err += c));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(err).toContain('LLM_TEMPERATURE="hot" accepts a number from 0 to 2');
  });
});
