import { setTimeout as sleep } from "node:timers/promises";
import type { MessageRef } from "../../src/stream/index.js";
import type { SimReply } from "./sim.js";

/**
 * The baseline: what a first version of a streaming bot usually does. It edits
 * on every delta without waiting for the previous edit and without a budget,
 * ignores failed intermediate edits, and retries only the posts and the final
 * edit after a 429. A message that would pass maxChars is finished and the text
 * continues in a new one (a hard cut).
 */
export async function naiveRender(
  deltas: AsyncIterable<string>,
  reply: SimReply,
  cursor = "▌",
): Promise<void> {
  let current = "";
  let ref: MessageRef | undefined;
  for await (const delta of deltas) {
    if (ref && current.length + delta.length + cursor.length > reply.maxChars) {
      const finished = ref;
      const text = current;
      await retrying(() => reply.edit(finished, text));
      ref = undefined;
      current = "";
    }
    current += delta;
    const text = current + cursor;
    if (!ref) ref = await retrying(() => reply.post(text));
    else reply.edit(ref, text).catch(() => {});
  }
  const last = ref;
  const text = current;
  if (last) await retrying(() => reply.edit(last, text));
}

async function retrying<T>(send: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await send();
    } catch (err) {
      const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
      if (typeof retryAfterMs !== "number") throw err;
      await sleep(retryAfterMs);
    }
  }
}
