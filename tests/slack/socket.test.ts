import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMentionEvent, messageEvent, slashCommand } from "../fakes/slackEvents.js";
import type { FakeSlackSocket } from "../fakes/slackSocket.js";
import { ALICE, CHANNEL, DM, type Harness, keep, startHarness, waitForAnswer } from "./harness.js";

describe("Slack: Socket Mode", () => {
  let h: Harness;
  let socket: FakeSlackSocket;
  let bot: string;
  beforeAll(async () => {
    h = await startHarness({ mode: "socket" });
    socket = h.socket!;
    bot = h.slack.botUserId;
    h.testBot.fake.respond((body) => ({ text: `over the socket (${body.messages.length - 1})` }));
  });
  afterAll(() => h.close());

  it("connects with the app token through apps.connections.open", () => {
    expect(h.handle.mode).toBe("socket");
    expect(socket.connections).toBe(1);
    const open = h.slack.callsTo("apps.connections.open");
    expect(open).toHaveLength(1);
    expect(open[0]!.token).toBe(h.slack.appToken);
  });

  it("acks a mention and answers it once, even when Slack redelivers it", async () => {
    const event = appMentionEvent({
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${bot}> hello`,
      ts: h.slack.nextTs(),
    });
    keep(h.slack, event);
    const envelope = h.envelope(event);
    const first = socket.sendEvent(envelope);
    await socket.waitForAck(first);
    const again = socket.sendEvent(envelope, { retryAttempt: 1 });
    await socket.waitForAck(again);
    await waitForAnswer(h, CHANNEL, event.ts, "over the socket (1)");

    const dm = messageEvent({ channel: DM, user: ALICE.id, text: "and a DM", ts: h.slack.nextTs() });
    keep(h.slack, dm);
    socket.sendEvent(h.envelope(dm));
    await h.slack.waitFor(
      () => h.slack.botMessagesIn(DM).at(-1)?.text === "over the socket (1)",
      10_000,
      "DM answer",
    );
    expect(h.testBot.fake.requests).toHaveLength(2);
    expect(h.slack.botMessagesIn(CHANNEL, event.ts)).toHaveLength(1);
  });

  it("answers /reset in the ack", async () => {
    const id = socket.sendCommand(slashCommand(h.slack, { channel: DM, user: ALICE.id }));
    const ack = await socket.waitForAck(id);
    expect(ack.payload).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/forgot/) });
    expect(await h.testBot.bot.exists(`slack:${h.slack.teamId}:${DM}`)).toBe(false);
  });

  it("is not ready while the WebSocket is down, and ready again once the SDK reconnects", async () => {
    expect(await h.handle.ready()).toBe(true);
    // Slack drops the connection (the server stays up, so the client reconnects after its delay).
    for (const ws of (socket as unknown as { clients: Set<{ terminate(): void }> }).clients) ws.terminate();
    const until = async (want: boolean, ms: number) => {
      for (let i = 0; i < ms / 50 && (await h.handle.ready()) !== want; i++)
        await new Promise((r) => setTimeout(r, 50));
      return h.handle.ready();
    };
    expect(await until(false, 3_000)).toBe(false);
    expect(await until(true, 15_000)).toBe(true);
  });
});
