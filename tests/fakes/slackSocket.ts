import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { FakeSlack } from "./slack.js";
import type { SlackPayload } from "./slackEvents.js";

/** An acknowledgement the app sent back over the socket. */
export interface SocketAck {
  envelope_id: string;
  payload?: SlackPayload;
}

/**
 * A fake Socket Mode server: FakeSlack's apps.connections.open hands out its
 * ws:// URL; on connect it says `hello`, then delivers envelopes
 * (`events_api`, `slash_commands`) and records the app's acks.
 */
export class FakeSlackSocket {
  readonly acks: SocketAck[] = [];
  private readonly clients = new Set<WebSocket>();
  private readonly events = new EventEmitter();
  private seq = 0;

  private constructor(private readonly server: WebSocketServer) {
    server.on("connection", (ws) => {
      this.clients.add(ws);
      ws.on("close", () => this.clients.delete(ws));
      ws.on("message", (data) => {
        const ack = JSON.parse(String(data)) as SocketAck;
        this.acks.push(ack);
        this.events.emit("ack", ack);
      });
      ws.send(
        JSON.stringify({
          type: "hello",
          num_connections: this.clients.size,
          debug_info: { host: "applink-fake", build_number: 1, approximate_connection_time: 3600 },
          connection_info: { app_id: "A0APP" },
        }),
      );
      this.events.emit("connection");
    });
  }

  static async start(fake: FakeSlack): Promise<FakeSlackSocket> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const socket = new FakeSlackSocket(server);
    fake.socketUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=fake`;
    return socket;
  }

  get connections(): number {
    return this.clients.size;
  }

  /** Delivers an Events API envelope; returns its envelope id. */
  sendEvent(payload: SlackPayload, options: { retryAttempt?: number } = {}): string {
    return this.send({
      type: "events_api",
      payload,
      accepts_response_payload: false,
      retry_attempt: options.retryAttempt ?? 0,
      retry_reason: options.retryAttempt ? "timeout" : "",
    });
  }

  /** Delivers an interactivity payload (a button press: block_actions). */
  sendInteractive(payload: SlackPayload): string {
    return this.send({ type: "interactive", payload, accepts_response_payload: false });
  }

  /** Delivers a slash command; its ack may carry the response. */
  sendCommand(fields: Record<string, string>): string {
    return this.send({ type: "slash_commands", payload: fields, accepts_response_payload: true });
  }

  async waitForAck(envelopeId: string, timeoutMs = 5_000): Promise<SocketAck> {
    const found = this.acks.find((a) => a.envelope_id === envelopeId);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const onAck = (ack: SocketAck) => {
        if (ack.envelope_id !== envelopeId) return;
        clearTimeout(timer);
        this.events.off("ack", onAck);
        resolve(ack);
      };
      const timer = setTimeout(() => {
        this.events.off("ack", onAck);
        reject(new Error(`FakeSlackSocket: no ack for ${envelopeId}`));
      }, timeoutMs);
      this.events.on("ack", onAck);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.clients) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(envelope: SlackPayload): string {
    const envelope_id = `env-${++this.seq}`;
    const text = JSON.stringify({ envelope_id, ...envelope });
    if (this.clients.size === 0) throw new Error("FakeSlackSocket: no app is connected");
    for (const ws of this.clients) ws.send(text);
    return envelope_id;
  }
}
