import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, openBackend } from "../../src/memory/backend.js";
import { createStore, type KeyvConversationStore } from "../../src/memory/store.js";
import type { NewAttachment, StoredMessage } from "../../src/memory/types.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";

const urls: Record<string, () => Promise<string | null>> = {
  sqlite: async () => `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-files-")), "f.sqlite")}`,
  redis: async () => ((await backendAvailable("redis")) ? BACKENDS.redis : null),
  postgres: async () => ((await backendAvailable("postgres")) ? BACKENDS.postgres : null),
};

const question = (text: string): StoredMessage => ({
  role: "user",
  text,
  at: Date.now(),
  author: { id: "U", name: "U" },
});
const image = (name: string, bytes = 100): NewAttachment => ({
  id: randomUUID(),
  name,
  mediaType: "image/png",
  width: 10,
  height: 10,
  data: Buffer.alloc(bytes, name).toString("base64"),
});

describe.each(Object.keys(urls))("stored images on %s", (backend) => {
  let store: KeyvConversationStore | undefined;
  let short: KeyvConversationStore | undefined;
  let raw: Backend | undefined;
  let skip = false;
  const id = (name: string) => `test:${randomUUID()}:${name}`;
  /** The image's bytes as the backend holds them, whatever the store's API would show (its key layout). */
  const onDisk = async (conversationId: string, fileId: string, epoch: string) =>
    raw!.keyv.get<string>(`file:${conversationId}:${epoch}:${fileId}`);
  const epochOf = async (conversationId: string) =>
    (await raw!.keyv.get<{ epoch: string }>(`conv:${conversationId}:meta`))!.epoch;

  beforeAll(async () => {
    const url = await urls[backend]!();
    if (!url) {
      skip = true;
      return;
    }
    store = createStore(url, {
      maxMessages: 50,
      ttlMs: 60_000,
      purgeIntervalMs: 0,
      attachments: { maxAttachments: 3, maxAttachmentBytes: 1_000 },
    });
    short = createStore(url, { maxMessages: 50, ttlMs: 300, purgeIntervalMs: 0 });
    raw = openBackend(url);
  });
  afterAll(async () => {
    await raw?.close();
    await store?.close();
    await short?.close();
  });

  it("keeps a message's images by reference and gives their bytes back", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("keep");
    const a = image("a");
    await store.append(c, question("look"), { attachments: [a] });
    const [m] = await store.history(c);
    expect(m!.attachments).toEqual([{ id: a.id, name: "a", mediaType: "image/png", width: 10, height: 10 }]);
    expect((await store.attachments(c, [a.id])).get(a.id)).toBe(a.data);
  });

  it("keeps at most maxAttachments and maxAttachmentBytes per conversation, dropping the oldest", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("caps");
    const files = ["a", "b", "c", "d"].map((n) => image(n));
    for (const f of files) await store.append(c, question(f.name), { attachments: [f] });
    const kept = await store.attachments(
      c,
      files.map((f) => f.id),
    );
    expect([...kept.keys()]).toEqual(files.slice(1).map((f) => f.id));
    // 3 × 136 base64 bytes fit in 1,000; a 600-byte image (800 in base64) pushes two more out.
    const big = image("big", 600);
    await store.append(c, question("big"), { attachments: [big] });
    const after = await store.attachments(c, [...files.map((f) => f.id), big.id]);
    expect([...after.keys()]).toEqual([files[3]!.id, big.id]);
  });

  it("reset deletes the images, and a new conversation in the same place starts without them", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const c = id("reset");
    const a = image("a");
    await store.append(c, question("look"), { attachments: [a] });
    const epoch = await epochOf(c);
    expect(await onDisk(c, a.id, epoch)).toBe(a.data);
    await store.reset(c);
    expect(await onDisk(c, a.id, epoch)).toBeUndefined();
    expect(await store.attachments(c, [a.id])).toEqual(new Map());
    await store.append(c, question("again"));
    expect(await store.attachments(c, [a.id])).toEqual(new Map());
  });

  it("resetScope deletes the images of every conversation under the prefix, not others'", async (ctx) => {
    if (skip || !store) return ctx.skip();
    const scope = `test:${randomUUID()}`;
    const inside = [`${scope}:C1:1`, `${scope}:C1:2`];
    const outside = `${scope}x:C1:1`;
    const files = new Map<string, { file: NewAttachment; epoch: string }>();
    for (const c of [...inside, outside]) {
      const file = image(c.slice(-1));
      await store.append(c, question("x"), { attachments: [file] });
      files.set(c, { file, epoch: await epochOf(c) });
    }
    await store.resetScope(`${scope}:C1`);
    for (const c of inside) {
      const { file, epoch } = files.get(c)!;
      expect(await onDisk(c, file.id, epoch)).toBeUndefined();
      expect(await store.exists(c)).toBe(false);
    }
    const { file, epoch } = files.get(outside)!;
    expect(await onDisk(outside, file.id, epoch)).toBe(file.data);
    expect((await store.attachments(outside, [file.id])).size).toBe(1);
  });

  it("images expire with the conversation", async (ctx) => {
    if (skip || !short) return ctx.skip();
    const c = id("expiry");
    const a = image("a");
    await short.append(c, question("look"), { attachments: [a] });
    expect((await short.attachments(c, [a.id])).size).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    expect(await short.attachments(c, [a.id])).toEqual(new Map());
  });
});
