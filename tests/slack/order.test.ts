import { afterEach, describe, expect, it } from "vitest";
import { messageEvent } from "../fakes/slackEvents.js";
import { ALICE, BOB, DM, type Harness, startHarness } from "./harness.js";

describe("Slack messages of one conversation", () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it("are answered and remembered in the order they were sent, even when the first needs slow lookups", async () => {
    h = await startHarness();
    h.testBot.fake.respond((body) => ({ text: `answering: ${body.messages.at(-1).content}` }));
    // Looking a user up takes Slack a while; the first message mentions someone, the second does not.
    const fake = h.slack as unknown as { handle: (req: { url?: string }, res: unknown) => Promise<void> };
    const handle = fake.handle.bind(h.slack);
    fake.handle = async (req, res) => {
      if ((req.url ?? "").includes("users.info")) await new Promise((r) => setTimeout(r, 400));
      return handle(req, res);
    };
    // A first exchange, so the author's own name is already known (cached) before the test.
    const hello = h.slack.nextTs();
    await h.deliver(messageEvent({ channel: DM, user: ALICE.id, text: "hello", ts: hello }));
    await h.slack.waitFor(
      () => h!.slack.botMessagesIn(DM).some((m) => m.text === "answering: hello"),
      10_000,
      "hello",
    );
    const first = h.slack.nextTs();
    const second = h.slack.nextTs();
    await h.deliver(
      messageEvent({ channel: DM, user: ALICE.id, text: `first: what does <@${BOB.id}> think?`, ts: first }),
    );
    await h.deliver(messageEvent({ channel: DM, user: ALICE.id, text: "second: and why?", ts: second }));
    const finished = () => h!.slack.botMessagesIn(DM).filter((m) => !m.text.includes("▌"));
    await h.slack.waitFor(() => finished().length === 3, 10_000, "two more answers");
    expect(finished().map((m) => m.text.split(":")[1]?.trim())).toEqual(["hello", "first", "second"]);
    const history = await h.testBot.bot.history(`slack:${h.slack.teamId}:${DM}`);
    expect(history.slice(2).map((m) => m.text.split(":")[0])).toEqual([
      "first",
      "answering",
      "second",
      "answering",
    ]);
  });
});
