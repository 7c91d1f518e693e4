import { afterEach, describe, expect, it } from "vitest";
import { toMrkdwn } from "../../adapters/slack/format.js";
import { SLACK_TEXT_LIMIT } from "../../adapters/slack/reply.js";
import { CrashRecovery } from "../../src/replicas/index.js";
import { type EditBudgetSource, EditBudgets } from "../../src/stream/index.js";
import { appMentionEvent } from "../fakes/slackEvents.js";
import { ALICE, CHANNEL, CURSOR, type Harness, startHarness } from "./harness.js";

/**
 * About 6,000 characters of Markdown that grow when Slack's mrkdwn writes
 * them: `&`, `<` and `>` become `&amp;`, `&lt;`, `&gt;`, and list items get bullets.
 */
function escapingAnswer(): string {
  const parts: string[] = [];
  for (let i = 0; parts.join("").length < 6_000; i++) {
    parts.push(`Step ${i}: compare a & b, then check x < y && y > z before you go on.\n\n`);
    parts.push(`- item ${i} & <tag> & more\n- the next one > the last & so on\n- a third && <b>\n\n`);
  }
  return parts.join("").trimEnd();
}

/** Streams `text` in pieces of about `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Budgets that count every request drawn from them. */
function counting(edits: number, perMs: number): { source: EditBudgetSource; grants: () => number } {
  const real = new EditBudgets({ edits, perMs });
  let grants = 0;
  return {
    grants: () => grants,
    source: {
      get: (scope) => {
        const budget = real.get(scope);
        return {
          acquire: async (signal, priority) => {
            await budget.acquire(signal, priority);
            grants++;
          },
          pause: (ms) => budget.pause(ms),
        };
      },
    },
  };
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

describe("Slack: a long answer whose mrkdwn is longer than its Markdown", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("ends as messages each within Slack's limit, none empty, every one from the budget, exactly the converted text", async () => {
    const edits = counting(6_000, 60_000);
    const posts = counting(600, 3_000);
    h = await startHarness({ budgets: edits.source, postBudgets: posts.source });
    const text = escapingAnswer();
    expect(toMrkdwn(text).length).toBeGreaterThan(text.length + 1_000);
    h.testBot.fake.respond(() => ({ chunks: pieces(text, 40), chunkDelayMs: 2 }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> go`, ts }),
    );
    const mine = () => h!.slack.botMessagesIn(CHANNEL, ts).map((m) => m.text);
    const expected = squash(toMrkdwn(text));
    await h.slack.waitFor(
      () => squash(mine().join("\n")) === expected,
      20_000,
      "the whole answer, converted",
    );
    await new Promise((r) => setTimeout(r, 200));

    const messages = mine();
    expect(messages.length).toBeGreaterThanOrEqual(Math.ceil(toMrkdwn(text).length / SLACK_TEXT_LIMIT));
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT);
      expect(m.replace(/[\u200B\s]/g, "")).not.toBe("");
      expect(m).not.toContain(CURSOR);
    }
    // Every request the bot made for the answer drew on a budget; nothing was refused as too long.
    const calls = h.slack.calls.filter((c) => c.method === "chat.postMessage" || c.method === "chat.update");
    expect(calls.length).toBe(edits.grants() + posts.grants());
    expect(h.slack.calls.filter((c) => c.response?.error === "msg_too_long")).toEqual([]);
  });

  it("a crash part-way through it leaves no cursor in any of its messages", async () => {
    h = await startHarness({ recovery: { heartbeatMs: 50 } });
    const text = escapingAnswer();
    const chunks = pieces(text, 100);
    // The model stops sending two thirds of the way in; then the process dies.
    h.testBot.fake.respond(() => ({
      chunks,
      chunkDelayMs: 5,
      stallAfterChunks: Math.floor((chunks.length * 2) / 3),
    }));
    const ts = h.slack.nextTs();
    await h.deliver(
      appMentionEvent({ channel: CHANNEL, user: ALICE.id, text: `<@${h.slack.botUserId}> go`, ts }),
    );
    const mine = () => h!.slack.botMessagesIn(CHANNEL, ts).map((m) => m.text);
    await h.slack.waitFor(
      () => mine().length >= 2 && (mine().at(-1) ?? "").includes(CURSOR),
      20_000,
      "a second message still being written",
    );
    await new Promise((r) => setTimeout(r, 300));
    clearInterval((h.recovery as unknown as { beatTimer: NodeJS.Timeout }).beatTimer);

    const survivor = new CrashRecovery(h.testBot.store.state, h.testBot.store.coordination.atomic, {
      heartbeatMs: 50,
      sweepEveryMs: 0,
    });
    await survivor.start();
    await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.watch({ slack: h.handle.finisher })).toBe(1);
    const messages = mine();
    for (const m of messages) {
      expect(m).not.toContain(CURSOR);
      expect(m.length).toBeLessThanOrEqual(SLACK_TEXT_LIMIT);
    }
    expect(messages.at(-1)).toMatch(/⚠️ The bot restarted before finishing this answer/);
    await survivor.stop();
  });
});
