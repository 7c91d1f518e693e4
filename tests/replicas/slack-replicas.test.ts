import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { INCOMPLETE_MARK } from "../../src/turn/history.js";
import { appMentionEvent, messageEvent, slashCommand } from "../fakes/slackEvents.js";
import { BACKENDS, backendAvailable } from "../helpers/backends.js";
import { ALICE } from "../slack/harness.js";
import {
  answerFor,
  problemsLogged,
  type Replica,
  sleep,
  startReplicas,
  stopReplicas,
  until,
  World,
} from "./cluster.js";

/**
 * Short, so a crashed replica's lock runs out within the test, yet long enough
 * that a replica starved of CPU on a busy 2-core machine still renews in time.
 */
const LEASE_MS = 3_000;

/**
 * Three bot processes (src/main.ts) behind one fake Slack and one fake model,
 * sharing the real Redis or Postgres of this machine, as replicas behind a
 * load balancer for Slack HTTP events would.
 */
describe.each(["redis", "postgres"] as const)("three replicas sharing %s", (backend) => {
  let world: World | undefined;
  let a: Replica | undefined;
  let b: Replica | undefined;
  let c: Replica | undefined;

  beforeAll(async () => {
    if (!(await backendAvailable(backend))) return;
    world = await World.start();
    // Plenty of edits: budgets across replicas have a test of their own (budget.test.ts).
    const env = world.env(BACKENDS[backend], {
      TURN_LOCK_LEASE_MS: String(LEASE_MS),
      SLACK_EDITS_PER_MINUTE: "10000",
    });
    [a, b, c] = await startReplicas(["a", "b", "c"], env);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    for (const r of [a, b, c]) if (r) console.error(`replica ${r.name} logged:\n${problemsLogged(r)}`);
  });

  afterAll(async () => {
    await stopReplicas([a, b, c]);
    await world?.close();
  });

  /** The three replicas, or a skip when the backend is not running here. */
  const cluster = (skip: () => void) => {
    if (!world || !a || !b || !c) {
      skip();
      throw new Error("unreachable");
    }
    return { w: world, a, b, c };
  };

  it("answers one Slack event once when it and its retries reach every replica", async (ctx) => {
    const { w, a, b, c } = cluster(() => ctx.skip());
    const channel = w.channel();
    const ts = w.slack.nextTs();
    const question = "what is a replica?";
    const event = appMentionEvent({
      channel,
      user: ALICE.id,
      text: `<@${w.slack.botUserId}> ${question}`,
      ts,
    });
    const envelope = w.envelope(event);
    const answers = await Promise.all([
      a.post.event(envelope),
      b.post.event(envelope),
      c.post.event(envelope),
      // Slack's redeliveries: same event_id, with X-Slack-Retry-Num.
      b.post.event(envelope, { retryNum: 1 }),
      c.post.event(envelope, { retryNum: 2 }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    await w.waitForText(channel, ts, answerFor(question));
    // A duplicate would have posted by now (each replica acts on its copy at once); give it room anyway.
    await sleep(500);
    expect(w.botTexts(channel, ts)).toEqual([answerFor(question)]);
    expect(w.callsIn(channel, "chat.postMessage")).toHaveLength(1);
    expect(w.requestsFor(question)).toHaveLength(1);
  });

  it("answers a mention once when its message and app_mention events reach different replicas", async (ctx) => {
    const { w, a, b, c } = cluster(() => ctx.skip());
    const channel = w.channel();
    const ts = w.slack.nextTs();
    const question = "one mention, two events";
    const person = { channel, user: ALICE.id, text: `<@${w.slack.botUserId}> ${question}`, ts };
    const asMessage = w.envelope(messageEvent(person));
    const asMention = w.envelope(appMentionEvent(person));
    const answers = await Promise.all([
      a.post.event(asMessage),
      b.post.event(asMention),
      c.post.event(asMention, { retryNum: 1 }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);

    await w.waitForText(channel, ts, answerFor(question));
    await sleep(500);
    expect(w.botTexts(channel, ts)).toEqual([answerFor(question)]);
    expect(w.callsIn(channel, "chat.postMessage")).toHaveLength(1);
    expect(w.requestsFor(question)).toHaveLength(1);
  });

  it("answers two messages of one thread on two replicas in order, the second with the first exchange", async (ctx) => {
    const { w, a, b } = cluster(() => ctx.skip());
    const channel = w.channel();
    const root = w.slack.nextTs();
    const first = "first, and answer SLOW";
    const second = "second, right behind it";
    await a.post.event(
      w.envelope(
        appMentionEvent({ channel, user: ALICE.id, text: `<@${w.slack.botUserId}> ${first}`, ts: root }),
      ),
    );
    // Replica a is streaming the first answer (it holds the conversation) when b gets the follow-up.
    await until(() => w.botTexts(channel, root).length === 1, "the first answer to start");
    const followUp = messageEvent({
      channel,
      user: ALICE.id,
      text: second,
      ts: w.slack.nextTs(),
      thread_ts: root,
    });
    await b.post.event(w.envelope(followUp));

    await w.waitForTexts(channel, root, [answerFor(first), answerFor(second)]);
    const [firstRequest] = w.requestsFor(first);
    const [secondRequest] = w.requestsFor(second);
    expect(w.requestsFor(first)).toHaveLength(1);
    expect(w.requestsFor(second)).toHaveLength(1);
    expect(conversation(firstRequest?.body)).toEqual([{ role: "user", content: first }]);
    expect(conversation(secondRequest?.body)).toEqual([
      { role: "user", content: first },
      { role: "assistant", content: answerFor(first) },
      { role: "user", content: second },
    ]);
  });

  it("lets another replica take a conversation after its holder is killed mid-turn, once the lease runs out", async (ctx) => {
    const { w, a, c } = cluster(() => ctx.skip());
    const channel = w.channel();
    const root = w.slack.nextTs();
    const first = "this one will STALL";
    const second = "anyone still there?";
    await c.post.event(
      w.envelope(
        appMentionEvent({ channel, user: ALICE.id, text: `<@${w.slack.botUserId}> ${first}`, ts: root }),
      ),
    );
    await until(() => w.botTexts(channel, root).some((t) => t.includes("Thinking hard")), "c to stream");
    await a.post.event(
      w.envelope(
        messageEvent({ channel, user: ALICE.id, text: second, ts: w.slack.nextTs(), thread_ts: root }),
      ),
    );
    // While c lives it renews its lease: a waits longer than one lease and still does not answer.
    await sleep(LEASE_MS + 1_000);
    expect(w.requestsFor(second)).toHaveLength(0);

    c.child.kill("SIGKILL");
    await c.exited;
    await w.waitForText(channel, root, answerFor(second));
    // c kept the answer it was writing in the store as it streamed: the next turn sees it,
    // marked interrupted, between the two questions (never two user messages in a row).
    expect(conversation(w.requestsFor(second)[0]?.body)).toEqual([
      { role: "user", content: first },
      { role: "assistant", content: `Thinking hard${INCOMPLETE_MARK}` },
      { role: "user", content: second },
    ]);
  });

  it("/reset on one replica is seen by the next turn on another", async (ctx) => {
    const { w, a, b } = cluster(() => ctx.skip());
    const channel = w.channel();
    const root = w.slack.nextTs();
    const before = "remember the number 42";
    const after = "what was the number?";
    await a.post.event(
      w.envelope(
        appMentionEvent({ channel, user: ALICE.id, text: `<@${w.slack.botUserId}> ${before}`, ts: root }),
      ),
    );
    await w.waitForTexts(channel, root, [answerFor(before)]);

    const reset = await b.post.form(slashCommand(w.slack, { channel, user: ALICE.id }));
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining(`I forgot every conversation I had in <#${channel}>`),
    });

    await a.post.event(
      w.envelope(
        messageEvent({ channel, user: ALICE.id, text: after, ts: w.slack.nextTs(), thread_ts: root }),
      ),
    );
    await w.waitForTexts(channel, root, [answerFor(before), answerFor(after)]);
    expect(conversation(w.requestsFor(after)[0]?.body)).toEqual([{ role: "user", content: after }]);
  });
});

/** The messages of a chat-completions request without the system prompt. */
function conversation(body: unknown): Array<{ role: string; content: unknown }> {
  const messages =
    (body as { messages?: Array<{ role: string; content: unknown }> } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role !== "system").map(({ role, content }) => ({ role, content }));
}
