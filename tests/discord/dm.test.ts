import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CURSOR, type Harness, lastModelMessages, startHarness } from "./harness.js";

describe("Discord DMs", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("streams the answer by editing one message: cursor while writing, exact text at the end", async () => {
    const answer = "Paris is the capital of France. It has been since the tenth century, give or take.";
    h.fake.respond(() => ({ text: answer, chunkDelayMs: 40 }));
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "What is the capital of France?" });

    const [message] = await h.discord.waitForBotText(dm.id, answer);
    expect(h.discord.botMessages(dm.id)).toHaveLength(1);
    const intermediate = message!.versions.slice(0, -1);
    expect(intermediate.length).toBeGreaterThan(0);
    for (const text of intermediate) {
      expect(text.endsWith(CURSOR)).toBe(true);
      expect(answer.startsWith(text.slice(0, -CURSOR.length))).toBe(true);
    }
    expect(message!.content).toBe(answer);
    // A DM answer is a plain message, not a reply.
    expect(message!.replyTo).toBeUndefined();
    // Typing showed before the answer appeared.
    const typing = h.discord.calls.findIndex((c) => c.path === `/channels/${dm.id}/typing`);
    const post = h.discord.calls.findIndex(
      (c) => c.method === "POST" && c.path === `/channels/${dm.id}/messages`,
    );
    expect(typing).toBeGreaterThanOrEqual(0);
    expect(typing).toBeLessThan(post);
    expect(lastModelMessages(h).at(-1)).toEqual({ role: "user", content: "What is the capital of France?" });
  });

  it("remembers the conversation of the DM", async () => {
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "My name is Alice." });
    await h.discord.waitForBotText(dm.id, "You said: My name is Alice.");
    h.discord.say({ channel: dm, content: "What is my name?" });
    await h.discord.waitForBotText(dm.id, "You said: What is my name?");

    const sent = lastModelMessages(h).filter((m) => m.role !== "system");
    expect(sent).toEqual([
      { role: "user", content: "My name is Alice." },
      { role: "assistant", content: "You said: My name is Alice." },
      { role: "user", content: "What is my name?" },
    ]);
    expect(await h.bot.exists(`discord:dm:${dm.id}`)).toBe(true);
  });

  it("answers messages in the order they were sent, even when the first has a slow attachment", async () => {
    const dm = h.discord.world.aliceDm;
    const slowFile = h.discord.attachment("log.txt", "line one\nline two\n", "text/plain", 300);
    h.discord.say({ channel: dm, content: "first, with a file", attachments: [slowFile] });
    h.discord.say({ channel: dm, content: "second, right after" });
    await h.discord.waitFor(() => h.fake.requests.length === 2, "two model requests");

    const firstAsked = h.fake.requests[0]!.body.messages.at(-1).content as string;
    expect(firstAsked.startsWith("first, with a file")).toBe(true);
    const secondSent = h.fake.requests[1]!.body.messages.filter((m: { role: string }) => m.role === "user");
    expect(secondSent.at(-1).content).toBe("second, right after");
    expect(secondSent).toHaveLength(2);
  });
});
