import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Finisher, InflightMessages, type MessageLocation } from "../../src/memory/inflight.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { EditBudgets } from "../../src/stream/index.js";
import type { EditableReply } from "../../src/stream/types.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A platform message list: what a user sees. */
function fakePlatform() {
  const messages = new Map<string, string>();
  let next = 0;
  const reply: EditableReply = {
    maxChars: 2_000,
    budget: new EditBudgets({ edits: 1_000, perMs: 1_000 }).get("c"),
    post: async (text) => {
      const id = `m${++next}`;
      messages.set(id, text);
      return { id };
    },
    edit: async (ref, text) => {
      messages.set(ref.id, text);
    },
  };
  const finish: Finisher = async (location: MessageLocation, text: string) => {
    messages.set(location.id!, text);
  };
  return { messages, reply, finish };
}

/** A process that dies: its heartbeat stops without a clean stop(). */
function crash(process: InflightMessages): void {
  clearInterval((process as unknown as { timer: NodeJS.Timeout }).timer);
}

const urls: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-inflight-")), "i.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
};

describe.each(Object.keys(urls))("messages left streaming by a crashed process, on %s", (backend) => {
  let store: KeyvConversationStore | undefined;
  beforeAll(async () => {
    const url = await urls[backend]!();
    if (url) store = createStore(url, { maxMessages: 10, ttlMs: 60_000, purgeIntervalMs: 0 });
  });
  afterAll(() => store?.close());

  const processes = () => {
    const make = () => new InflightMessages(store!.state, store!.atomic, { cursor: "▌", heartbeatMs: 50 });
    return [make(), make()] as const;
  };

  it("are finished by another process: cursor gone, text kept, a note added; finished ones are left alone", async (ctx) => {
    if (!store) return ctx.skip();
    const [dead, alive] = processes();
    await dead.start();
    await alive.start();
    const platform = fakePlatform();
    const reply = dead.track("fake", platform.reply, (ref) => ({ id: ref.id }));
    const streaming = await reply.post("▌");
    await reply.edit(streaming, "Half an answ▌");
    const done = await reply.post("A whole answer▌");
    await reply.edit(done, "A whole answer.");
    crash(dead);

    // While the dead process's heartbeat has not expired yet, nothing is touched.
    expect(await alive.sweep({ fake: platform.finish })).toBe(0);
    await sleep(250);
    expect(await alive.sweep({ fake: platform.finish })).toBe(1);
    expect(platform.messages.get(streaming.id)).toBe(
      "Half an answ\n\n⚠️ The bot restarted before finishing this answer. Please ask again.",
    );
    expect(platform.messages.get(done.id)).toBe("A whole answer.");
    // Once is enough.
    expect(await alive.sweep({ fake: platform.finish })).toBe(0);
    await alive.stop();
  });

  it("a live process's messages are never touched, and a restart finds its own previous run's", async (ctx) => {
    if (!store) return ctx.skip();
    const [first, restarted] = processes();
    await first.start();
    const platform = fakePlatform();
    const ref = await first.track("fake", platform.reply, (r) => ({ id: r.id })).post("Thinking▌");
    await restarted.start();
    expect(await restarted.sweep({ fake: platform.finish })).toBe(0);
    crash(first);
    await sleep(250);
    expect(await restarted.sweep({ fake: platform.finish })).toBe(1);
    expect(platform.messages.get(ref.id)).toMatch(/^Thinking\n\n⚠️/);
    await restarted.stop();
  });
});

describe("messages left streaming, details", () => {
  let store: KeyvConversationStore;
  beforeAll(() => {
    store = createStore(`sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-inflight2-")), "i.sqlite")}`, {
      maxMessages: 10,
      ttlMs: 60_000,
      purgeIntervalMs: 0,
    });
  });
  afterAll(() => store.close());
  const make = () => new InflightMessages(store.state, store.atomic, { cursor: "▌", heartbeatMs: 50 });

  it("finds the cursor inside a code fence closed after it, and removes it there", async () => {
    const [dead, alive] = [make(), make()];
    await dead.start();
    await alive.start();
    const platform = fakePlatform();
    const ref = await dead
      .track("fake", platform.reply, (r) => ({ id: r.id }))
      .post("Here:\n```js\nconst a = 1;\n▌\n```");
    crash(dead);
    await sleep(250);
    expect(await alive.sweep({ fake: platform.finish })).toBe(1);
    expect(platform.messages.get(ref.id)).toBe(
      "Here:\n```js\nconst a = 1;\n\n```\n\n⚠️ The bot restarted before finishing this answer. Please ask again.",
    );
    await alive.stop();
  });

  it("leaves another platform's messages for a process that runs it", async () => {
    const [dead, discordOnly, slackToo] = [make(), make(), make()];
    await dead.start();
    const slack = fakePlatform();
    const ref = await dead.track("slack", slack.reply, (r) => ({ id: r.id })).post("Half▌");
    crash(dead);
    await discordOnly.start();
    await sleep(250);
    expect(await discordOnly.sweep({ discord: async () => {} })).toBe(0);
    // The first sweeper's claim on the dead owner lasts a minute; a later sweep by a process
    // with the Slack finisher then finishes it. Here: release the claim as its expiry would.
    await store.atomic.deleteIf(`claim:inflight:sweep:${dead.ownerId}`, "1");
    await slackToo.start();
    expect(await slackToo.sweep({ slack: slack.finish })).toBe(1);
    expect(slack.messages.get(ref.id)).toMatch(/^Half\n\n⚠️/);
    await discordOnly.stop();
    await slackToo.stop();
  });
});

describe("a process taken for stopped after a stall", () => {
  it("registers again at its next heartbeat, so a later crash is still recovered", async () => {
    const store = createStore(
      `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-inflight3-")), "i.sqlite")}`,
      {
        maxMessages: 10,
        ttlMs: 60_000,
        purgeIntervalMs: 0,
      },
    );
    const stalled = new InflightMessages(store.state, store.atomic, { cursor: "▌", heartbeatMs: 50 });
    await stalled.start();
    // What another process's sweep does to an owner whose heartbeat lapsed.
    await store.state.set("inflight:owners", [], 60_000);
    await sleep(200);
    expect(await store.state.get<string[]>("inflight:owners")).toContain(stalled.ownerId);
    await stalled.stop();
    await store.close();
  });
});
