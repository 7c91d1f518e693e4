import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import KeyvSqlite from "@keyv/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { INCOMPLETE_MARK } from "../src/turn/history.js";
import { FakeOpenAI } from "./fakes/openai.js";
import { killStartedBots, openStream, spawnBot, startBot, tempStoreUrl, until } from "./helpers/process.js";

/**
 * Faults of a real bot process: killed mid-answer, its SQLite file locked by
 * another writer while running, and a corrupt or locked file at start-up.
 */

/** Another process's write transaction on the SQLite file: holds its write lock until released. */
async function holdWriteLock(storeUrl: string): Promise<() => Promise<void>> {
  const other = new KeyvSqlite({ uri: storeUrl, table: "chatbot", busyTimeout: 10_000 });
  const query = other.query as (sql: string, ...params: unknown[]) => Promise<unknown>;
  await query("BEGIN IMMEDIATE");
  await query("INSERT INTO chatbot(key, value) VALUES ('held-by-test', '{}') ON CONFLICT(key) DO NOTHING");
  return async () => {
    await query("ROLLBACK");
    await other.disconnect();
  };
}

const env = (fake: FakeOpenAI, storeUrl: string) => ({
  OPENAI_BASE_URL: fake.baseUrl,
  OPENAI_API_KEY: "sk-test-0123456789",
  LLM_MODEL: "m",
  STORE_URL: storeUrl,
});

// Each test starts one or two real processes; on a busy machine one start alone can take 20 s.
describe("faults of the bot process", { timeout: 120_000 }, () => {
  let fake: FakeOpenAI | undefined;
  let release: (() => Promise<void>) | undefined;
  afterEach(async () => {
    killStartedBots();
    await release?.();
    release = undefined;
    await fake?.close();
  });

  it("kill -9 mid-answer on the web: after a restart the conversation shows the partial answer, marked incomplete", async () => {
    fake = await FakeOpenAI.start();
    const chunks = Array.from({ length: 400 }, (_, i) => `word${i} `);
    fake.respond(() => ({ chunks, chunkDelayMs: 25 }));
    const storeUrl = tempStoreUrl();
    const first = await startBot(env(fake, storeUrl));
    const stream = await openStream(first.baseUrl, "tell me a long story");
    const id = stream.conversationId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // The answer so far reaches the store while it streams (coalesced, about once a second).
    const stored = async () => {
      const res = await fetch(`${first.baseUrl}/conversations/${id}`);
      const { messages } = (await res.json()) as { messages?: Array<{ content: string }> };
      return messages?.[1]?.content ?? "";
    };
    await until(async () => (await stored()).length > 50);
    first.child.kill("SIGKILL");
    await first.exited;
    await stream.done;
    const seen = stream.text();
    expect(stream.events.some((e) => e.event === "done")).toBe(false);

    const second = await startBot(env(fake, storeUrl));
    const after = await (await fetch(`${second.baseUrl}/conversations/${id}`)).json();
    expect(after.messages).toHaveLength(2);
    expect(after.messages[0]).toEqual({ role: "user", content: "tell me a long story" });
    const partial = after.messages[1];
    expect(partial.role).toBe("assistant");
    expect(partial.incomplete).toBe(true);
    expect(partial.content.length).toBeGreaterThan(50);
    // What was kept is what the client had seen (or a little less: writes are coalesced).
    expect(seen.startsWith(partial.content)).toBe(true);

    // The next turn alternates: the interrupted answer sits between the two questions.
    fake.respond(() => ({ text: "picking up" }));
    const next = await openStream(second.baseUrl, "go on", id);
    await next.done;
    expect(next.text()).toBe("picking up");
    const roles = fake.lastBody.messages.map((m: { role: string }) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "user"]);
    expect(fake.lastBody.messages[2].content).toBe(partial.content + INCOMPLETE_MARK);
  });

  it("a locked SQLite file: 503 'memory unavailable', an error line naming SQLITE_BUSY, the turn failed, /ready 503", async () => {
    fake = await FakeOpenAI.start();
    const storeUrl = tempStoreUrl();
    const bot = await startBot(env(fake, storeUrl));
    expect((await fetch(`${bot.baseUrl}/ready`)).status).toBe(200);
    release = await holdWriteLock(storeUrl);

    const res = await fetch(`${bot.baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hello?" }),
    });
    expect(res.status).toBe(503);
    expect((await res.json()).error).toEqual({
      code: "store_unavailable",
      message: "The bot's memory is unavailable right now. Please try again in a moment.",
    });
    await until(() => bot.output().includes("turn failed: store_unavailable"));
    const lines = bot
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; backendCode?: string });
    const storeLine = lines.find((l) => l.msg.startsWith("memory store failed"));
    expect(storeLine).toMatchObject({ level: 50, backendCode: "SQLITE_BUSY" });
    expect(storeLine?.msg).toContain("SQLITE_BUSY");
    expect(lines.some((l) => l.msg === "turn done")).toBe(false);
    expect(fake.requests).toHaveLength(0);

    const ready = await fetch(`${bot.baseUrl}/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.store).toBe(false);

    // Once the other writer lets go, everything works again.
    await release();
    release = undefined;
    await until(async () => (await fetch(`${bot.baseUrl}/ready`)).status === 200);
    const again = await fetch(`${bot.baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hello again" }),
    });
    expect((await again.json()).response).toBe("You said: hello again");
  });

  it("a corrupt SQLite file stops start-up with a line naming the file and what to do", async () => {
    const storeUrl = tempStoreUrl();
    const file = storeUrl.replace("sqlite://", "");
    writeFileSync(file, randomBytes(8192));
    const bot = spawnBot({ STORE_URL: storeUrl });
    expect(await bot.exited).toBe(1);
    const line = bot
      .output()
      .split("\n")
      .find((l) => l.includes('"code":"store_corrupt"'));
    expect(line).toBeDefined();
    const { msg } = JSON.parse(line!);
    expect(msg).toContain(file);
    expect(msg).toContain("SQLITE_NOTADB");
    expect(msg).toMatch(/Move it aside/);
  });

  it("a SQLite file locked by another process stops start-up with a line saying so", async () => {
    const storeUrl = tempStoreUrl();
    release = await holdWriteLock(storeUrl);
    const bot = spawnBot({ STORE_URL: storeUrl });
    expect(await bot.exited).toBe(1);
    const line = bot
      .output()
      .split("\n")
      .find((l) => l.includes('"code":"store_locked"'));
    expect(line).toBeDefined();
    const { msg } = JSON.parse(line!);
    expect(msg).toContain(storeUrl.replace("sqlite://", ""));
    expect(msg).toMatch(/locked by another process \(SQLITE_BUSY\)/);
  });
});
