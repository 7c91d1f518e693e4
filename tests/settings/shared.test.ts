import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSettingsCommand, runSettingsCommand } from "../../src/settings/index.js";
import type { Incoming } from "../../src/turn/index.js";
import { FakeOpenAI } from "../fakes/openai.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { makeTestBot, type TestBot } from "../helpers/bot.js";

const admin = { id: "U0ADMIN", name: "Ada", isPlatformAdmin: true };

async function ask(t: TestBot, place: Incoming["place"], text: string): Promise<string> {
  let answer = "";
  const incoming: Incoming = {
    conversationId: `slack:${place?.workspace}:${place?.channel}:${randomUUID()}`,
    author: { id: "U0ALICE", name: "Alice" },
    text,
    platform: "slack",
    ...(place ? { place } : {}),
  };
  for await (const delta of t.bot.reply(incoming)) if (typeof delta === "string") answer += delta;
  return answer;
}

const systemPromptOf = (fake: FakeOpenAI) => fake.lastBody.messages[0].content as string;

describe("settings outlive the process and are shared by replicas", () => {
  it("an admin's change applies to the next turn and survives a restart", async () => {
    const fake = await FakeOpenAI.start();
    const storeUrl = `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-settings-")), "s.sqlite")}`;
    const place = { platform: "slack", workspace: "T1", channel: "C1" };
    const first = await makeTestBot({ fake, storeUrl, systemPrompt: "Default." });
    await ask(first, place, "before");
    expect(systemPromptOf(fake)).toBe("Default.");
    await runSettingsCommand(parseSettingsCommand("prompt You are a pirate."), place, admin, first);
    await ask(first, place, "after");
    expect(systemPromptOf(fake)).toBe("You are a pirate.");
    await first.bot.drain(1_000);
    await first.store.close();

    const restarted = await makeTestBot({ fake, storeUrl, systemPrompt: "Default." });
    await ask(restarted, place, "after a restart");
    expect(systemPromptOf(fake)).toBe("You are a pirate.");
    // Another channel of the workspace keeps the default.
    await ask(restarted, { ...place, channel: "C2" }, "elsewhere");
    expect(systemPromptOf(fake)).toBe("Default.");
    await restarted.close();
    await fake.close();
  });

  it("a change made on one replica is seen by the next turn on another (Redis)", async (ctx) => {
    if (!(await backendAvailable("redis"))) return ctx.skip();
    const fake = await FakeOpenAI.start();
    const a = await makeTestBot({ fake, storeUrl: BACKENDS.redis, systemPrompt: "Default." });
    const b = await makeTestBot({ fake, storeUrl: BACKENDS.redis, systemPrompt: "Default." });
    const place = { platform: "discord", workspace: `G${randomUUID()}`, channel: "123" };
    await ask(b, place, "warm");
    expect(systemPromptOf(fake)).toBe("Default.");
    const answer = await runSettingsCommand(
      parseSettingsCommand("prompt Answer in French. --workspace"),
      place,
      admin,
      a,
    );
    expect(answer).toMatch(/Set prompt for this workspace/);
    await ask(b, place, "bonjour");
    expect(systemPromptOf(fake)).toBe("Answer in French.");
    await a.close();
    await b.close();
    await fake.close();
  });
});
