import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import { CrashRecovery, type MessageFinisher } from "../../src/replicas/index.js";
import { type EditableReply, EditBudgets, renderByEditing } from "../../src/stream/index.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOTE = "⚠️ The bot restarted before finishing this answer. Please ask again.";

/** A platform message list: what a user sees. */
function fakePlatform(maxChars = 2_000) {
  const messages = new Map<string, string>();
  let next = 0;
  const reply: EditableReply = {
    maxChars,
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
  const finisher: MessageFinisher = {
    maxChars,
    finish: async (location, text) => {
      messages.set(location.id!, text);
    },
  };
  return { messages, reply, finisher };
}

/** A process that dies: its heartbeat stops without a clean stop(). */
function crash(process: CrashRecovery): void {
  clearInterval((process as unknown as { beatTimer: NodeJS.Timeout }).beatTimer);
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
    const make = () =>
      new CrashRecovery(store!.state, store!.coordination.atomic, { heartbeatMs: 50, sweepEveryMs: 0 });
    return [make(), make()] as const;
  };

  it("are finished by another process with the text they showed and a note; final ones are left alone", async (ctx) => {
    if (!store) return ctx.skip();
    const [dead, alive] = processes();
    await dead.start();
    await alive.start();
    const platform = fakePlatform();
    const reply = dead.track("fake", platform.reply, (ref) => ({ id: ref.id }));
    const streaming = await reply.post("▌", { final: false, settled: "" });
    await reply.edit(streaming, "Half an answ▌", { final: false, settled: "Half an answ" });
    const done = await reply.post("A whole answer▌", { final: false, settled: "A whole answer" });
    // The renderer says when a text is final, even one the model wrote with the cursor glyph in it.
    await reply.edit(done, "A whole answer ▌ with a glyph.", { final: true });
    crash(dead);

    // While the dead process's heartbeat has not expired yet, nothing is touched.
    expect(await alive.watch({ fake: platform.finisher })).toBe(0);
    await sleep(250);
    expect(await alive.sweep()).toBe(1);
    expect(platform.messages.get(streaming.id)).toBe(`Half an answ\n\n${NOTE}`);
    expect(platform.messages.get(done.id)).toBe("A whole answer ▌ with a glyph.");
    // Once is enough.
    expect(await alive.sweep()).toBe(0);
    await alive.stop();
  });

  it("a live process's messages are never touched, and a restart finds its own previous run's", async (ctx) => {
    if (!store) return ctx.skip();
    const [first, restarted] = processes();
    await first.start();
    const platform = fakePlatform();
    const ref = await first
      .track("fake", platform.reply, (r) => ({ id: r.id }))
      .post("Thinking▌", { final: false, settled: "Thinking" });
    await restarted.start();
    expect(await restarted.watch({ fake: platform.finisher })).toBe(0);
    crash(first);
    await sleep(250);
    expect(await restarted.sweep()).toBe(1);
    expect(platform.messages.get(ref.id)).toBe(`Thinking\n\n${NOTE}`);
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
  const make = () =>
    new CrashRecovery(store.state, store.coordination.atomic, { heartbeatMs: 50, sweepEveryMs: 0 });

  it("finishes a message the renderer left inside a code fence: cursor gone, fence closed", async () => {
    const [dead, alive] = [make(), make()];
    await dead.start();
    await alive.start();
    const platform = fakePlatform();
    const reply = dead.track("fake", platform.reply, (r) => ({ id: r.id }));
    // A model that writes half a code block and then hangs; the process dies meanwhile.
    let hang!: () => void;
    const hung = new Promise<void>((resolve) => {
      hang = resolve;
    });
    async function* model() {
      yield "Here:\n```js\nconst a = 1;\n";
      await hung;
    }
    const rendering = renderByEditing(model(), reply, { placeholder: null });
    while (![...platform.messages.values()].some((t) => t.includes("const a"))) await sleep(5);
    await sleep(20);
    crash(dead);
    await sleep(250);
    expect(await alive.watch({ fake: platform.finisher })).toBe(1);
    expect([...platform.messages.values()]).toEqual([`Here:\n\`\`\`js\nconst a = 1;\n\`\`\`\n\n${NOTE}`]);
    hang();
    await rendering;
    await alive.stop();
  });

  it("fits the note into the platform's limit, measured after rendering", async () => {
    const [dead, alive] = [make(), make()];
    await dead.start();
    const platform = fakePlatform(100);
    const shown = "&".repeat(90);
    await dead
      .track("fake", platform.reply, (r) => ({ id: r.id }))
      .post(`${shown}▌`, { final: false, settled: shown });
    crash(dead);
    await alive.start();
    await sleep(250);
    // A platform that writes & as &amp; (Slack): 90 of them are 450 characters.
    const render = (md: string) => md.replace(/&/g, "&amp;");
    expect(await alive.watch({ fake: { ...platform.finisher, render } })).toBe(1);
    const [text] = [...platform.messages.values()];
    expect(text!.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^(&amp;)+\n\n⚠️ The bot restarted/);
    await alive.stop();
  });

  it("leaves another platform's messages for a process that runs it", async () => {
    const [dead, discordOnly, slackToo] = [make(), make(), make()];
    await dead.start();
    const slack = fakePlatform();
    const ref = await dead
      .track("slack", slack.reply, (r) => ({ id: r.id }))
      .post("Half▌", { final: false, settled: "Half" });
    crash(dead);
    await discordOnly.start();
    await sleep(250);
    expect(await discordOnly.watch({ discord: fakePlatform().finisher })).toBe(0);
    // The first sweeper's claim on the dead owner lasts a minute; a later sweep by a process
    // with the Slack finisher then finishes it. Here: release the claim as its expiry would.
    await store.coordination.atomic.deleteIf(`claim:inflight:sweep:${dead.ownerId}`, "1");
    await slackToo.start();
    expect(await slackToo.watch({ slack: slack.finisher })).toBe(1);
    expect(slack.messages.get(ref.id)).toBe(`Half\n\n${NOTE}`);
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
    const stalled = new CrashRecovery(store.state, store.coordination.atomic, { heartbeatMs: 50 });
    await stalled.start();
    // What another process's sweep does to an owner whose heartbeat lapsed.
    await store.state.set("inflight:owners", [], 60_000);
    await sleep(200);
    expect(await store.state.get<string[]>("inflight:owners")).toContain(stalled.ownerId);
    await stalled.stop();
    await store.close();
  });
});
