import { afterEach, describe, expect, it } from "vitest";
import { ONLY_LATEST } from "../../adapters/discord/texts.js";
import type { FakeMessage } from "../fakes/discord.js";
import { CURSOR, type Harness, lastModelMessages, startHarness } from "./harness.js";

/** Interaction callback types and the EPHEMERAL flag. @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type */
const CHANNEL_MESSAGE = 4;
const DEFERRED_UPDATE = 6;
const EPHEMERAL = 64;

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");

/** What the message showed at each moment it changed: [text, buttons]. */
const shown = (m: FakeMessage) => m.states.map((s) => [s.content, s.buttons.join(",")]);

describe("Discord Stop and Regenerate buttons", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const ask = (content: string, author = h.discord.world.alice) =>
    h.discord.say({
      channel: h.discord.world.general,
      content: `<@${h.discord.world.botUser.id}> ${content}`,
      author,
    });
  const callbackOf = (interactionId: string) =>
    h.discord.waitFor(
      () => h.discord.interactionCallbacks.find((c) => c.interactionId === interactionId),
      "the answer to the press",
    );

  it("shows Stop while the answer is written, and Regenerate instead once it is done", async () => {
    h = await startHarness();
    const answer = `${words(40)}.`;
    h.fake.respond(() => ({ text: answer, chunkDelayMs: 25 }));
    ask("write forty words");
    const [message] = await h.discord.waitForBotText(h.discord.world.general.id, answer);
    const states = shown(message!);
    expect(states.length).toBeGreaterThan(2);
    for (const [text, buttons] of states.slice(0, -1)) {
      expect(text!.endsWith(CURSOR)).toBe(true);
      expect(buttons).toBe("Stop");
    }
    expect(states.at(-1)).toEqual([answer, "Regenerate"]);
    // The buttons rode on the edits the answer made anyway: one request per state.
    expect(h.discord.sends.length).toBe(states.length);
  });

  it("puts a long answer's buttons on its last message only", async () => {
    h = await startHarness();
    const paragraph = `${"A sentence of a long answer that needs several messages. ".repeat(6).trim()}\n\n`;
    const answer = paragraph.repeat(12).trim();
    h.fake.respond(() => ({ chunks: answer.match(/[\s\S]{1,200}/g)!, chunkDelayMs: 15 }));
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "write a lot" });
    const messages = await h.discord.waitFor(() => {
      const mine = h.discord.botMessages(dm.id);
      return mine.length >= 2 && mine.at(-1)!.states.at(-1)!.buttons.includes("Regenerate")
        ? mine
        : undefined;
    }, "the whole answer");
    for (const m of messages.slice(0, -1)) {
      expect(m.states.at(-1)!.buttons).toEqual([]);
      expect(m.states.every((s) => s.buttons.length === 0 || s.buttons.join() === "Stop")).toBe(true);
    }
    expect(messages.at(-1)!.states.at(-1)!.buttons).toEqual(["Regenerate"]);
  });

  it("Stop pressed by the asker closes the model request and ends the message with what was written", async () => {
    h = await startHarness();
    // One delta every 250 ms: at most 4 more deltas after the press means it stopped within 1 s.
    h.fake.respond(() => ({ text: words(200), chunkDelayMs: 250 }));
    const { world } = h.discord;
    ask("talk for a long time");
    const message = await h.discord.waitFor(
      () => h.discord.botMessages(world.general.id).find((m) => m.content.length > 20),
      "the answer to be on screen",
    );
    const request = h.fake.requests[0]!;
    const deltasAtPress = request.deltasSent;
    const press = h.discord.click({ messageId: message.id, label: "Stop" });

    await h.discord.waitFor(() => request.closedByClient, "the model request to be closed");
    expect(request.deltasSent - deltasAtPress).toBeLessThanOrEqual(4);
    const callback = await callbackOf(press);
    expect([callback.body.type, callback.status]).toEqual([DEFERRED_UPDATE, 204]);
    const final = await h.discord.waitFor(() => {
      const m = h.discord.messages.get(message.id)!;
      return m.content.endsWith("_Stopped by Alice._") ? m : undefined;
    }, "the stopped answer");
    expect(final.content).not.toContain(CURSOR);
    expect(final.content.startsWith("word0 word1")).toBe(true);
    expect(final.states.at(-1)!.buttons).toEqual(["Regenerate"]);
    const history = await h.bot.history(`discord:${world.guildId}:${world.general.id}:${message.replyTo}`);
    expect(history.at(-1)).toMatchObject({ role: "assistant", incomplete: true });
  });

  it("refuses a Stop from anyone else, only to them, and the answer goes on; a moderator may stop it", async () => {
    h = await startHarness();
    h.fake.respond(() => ({ text: words(120), chunkDelayMs: 60 }));
    const { world } = h.discord;
    ask("talk for a while");
    const message = await h.discord.waitFor(
      () => h.discord.botMessages(world.general.id).find((m) => m.content.length > 10),
      "the answer to be on screen",
    );
    const sendsBefore = h.discord.sends.length;
    const refused = await callbackOf(
      h.discord.click({ messageId: message.id, label: "Stop", user: world.bob }),
    );
    expect(refused.body.type).toBe(CHANNEL_MESSAGE);
    expect(refused.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(refused.body.data.content).toBe(
      "Only Alice, who asked, or someone who can manage messages in this channel can stop this answer.",
    );
    expect(h.fake.requests[0]!.closedByClient).toBe(false);
    // The stream goes on as before: more edits, and still with Stop.
    await h.discord.waitFor(() => h.discord.sends.length > sendsBefore + 1, "the answer to go on");
    expect(h.discord.messages.get(message.id)!.states.at(-1)!.buttons).toEqual(["Stop"]);

    const stopped = await callbackOf(
      h.discord.click({ messageId: message.id, label: "Stop", user: world.mod }),
    );
    expect(stopped.body.type).toBe(DEFERRED_UPDATE);
    await h.discord.waitFor(
      () => h.discord.messages.get(message.id)!.content.endsWith("_Stopped by Mo the Mod._"),
      "the moderator's stop",
    );
    expect(h.fake.requests[0]!.closedByClient).toBe(true);
  });

  it("Regenerate asks the same question again, without the old answer, and memory keeps only the new one", async () => {
    h = await startHarness();
    const { world } = h.discord;
    h.fake.enqueue({ text: "Blue." }, { text: "Green." }, { text: "Green, like grass." });
    const asked = ask("name a colour");
    const conversation = `discord:${world.guildId}:${world.general.id}:${asked}`;
    const old = await h.discord.waitForBotMessage(world.general.id, "Blue.");
    await h.discord.waitFor(() => old.states.at(-1)!.buttons.join() === "Regenerate", "Regenerate");

    // Someone else may not; nothing is asked.
    const refused = await callbackOf(
      h.discord.click({ messageId: old.id, label: "Regenerate", user: world.bob }),
    );
    expect(refused.body.data.content).toBe(
      "Only Alice, who asked, or someone who can manage messages in this channel can regenerate this answer.",
    );
    expect(refused.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(h.fake.requests).toHaveLength(1);

    // A double click regenerates once.
    const press = h.discord.click({ messageId: old.id, label: "Regenerate" });
    const again = h.discord.click({ messageId: old.id, label: "Regenerate" });
    expect((await callbackOf(press)).body.type).toBe(DEFERRED_UPDATE);
    expect((await callbackOf(again)).body.type).toBe(DEFERRED_UPDATE);
    const fresh = await h.discord.waitForBotMessage(world.general.id, "Green.");
    expect(fresh.replyTo).toBe(asked);
    expect(h.fake.requests).toHaveLength(2);
    expect(lastModelMessages(h).filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "name a colour" },
    ]);
    expect((await h.bot.history(conversation)).map((m) => [m.role, m.text])).toEqual([
      ["user", "name a colour"],
      ["assistant", "Green."],
    ]);
    // The old answer stays readable, without its button; the new one has it.
    await h.discord.waitFor(() => old.states.at(-1)!.buttons.length === 0, "the old button to go");
    expect(old.content).toBe("Blue.");
    await h.discord.waitFor(() => fresh.states.at(-1)!.buttons.join() === "Regenerate", "the new button");

    // A reply to the new answer continues the conversation that holds it.
    h.discord.say({ channel: world.general, content: "why that one?", replyTo: fresh.id });
    await h.discord.waitForBotMessage(world.general.id, "Green, like grass.");
    expect(lastModelMessages(h).filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "name a colour" },
      { role: "assistant", content: "Green." },
      { role: "user", content: "why that one?" },
    ]);
  });

  it("regenerates only a conversation's latest answer", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    h.discord.say({ channel: dm, content: "first" });
    const first = await h.discord.waitForBotMessage(dm.id, "You said: first");
    h.discord.say({ channel: dm, content: "second" });
    await h.discord.waitForBotMessage(dm.id, "You said: second");
    await h.discord.waitFor(() => first.states.at(-1)!.buttons.join() === "Regenerate", "Regenerate");
    const callback = await callbackOf(h.discord.click({ messageId: first.id, label: "Regenerate" }));
    expect(callback.body.data.content).toBe(ONLY_LATEST);
    expect(callback.body.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(h.fake.requests).toHaveLength(2);
  });
});
