import type { Server } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";

/** Gateway opcodes (discord-api-types GatewayOpcodes). */
const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** GatewayIntentBits.MessageContent: privileged, must be enabled in the developer portal. */
export const MESSAGE_CONTENT_INTENT = 1 << 15;

export interface GatewayOptions {
  token: string;
  /** Whether the application may use MessageContent; false: IDENTIFY with it is closed with 4014. */
  messageContentAllowed: boolean;
  /** The READY payload (without session fields) and the GUILD_CREATE payloads to send after it. */
  ready: () => Record<string, unknown>;
  guilds: () => Record<string, unknown>[];
  heartbeatIntervalMs: number;
  /** Where clients resume (resume_gateway_url). */
  gatewayUrl: () => string;
}

interface Session {
  id: string;
  seq: number;
  socket: WebSocket | undefined;
  /** Dispatches sent while the socket was gone; replayed on RESUME, as Discord does. */
  missed: Array<{ t: string; d: unknown; s: number }>;
}

/**
 * The Discord gateway on a WebSocket at the fake server's `/gateway`: HELLO,
 * IDENTIFY -> READY + GUILD_CREATE, heartbeats and ACKs, RESUME -> replay +
 * RESUMED, close code 4004 for a wrong token and 4014 for a disallowed intent.
 * JSON encoding, no compression (what discord.js asks for without zlib-sync).
 */
export class FakeGateway {
  /** IDENTIFY payloads received (token, intents, properties, shard). */
  readonly identifies: Array<{ token: string; intents: number }> = [];
  readonly resumes: Array<{ session_id: string; seq: number }> = [];
  /** Close codes the fake sent. */
  readonly closeCodes: number[] = [];
  heartbeats = 0;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private current: Session | undefined;
  private sessionCounter = 0;
  private readonly onChange: () => void;

  constructor(
    server: Server,
    private readonly options: GatewayOptions,
    onChange: () => void,
  ) {
    this.onChange = onChange;
    this.wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      if (!req.url?.startsWith("/gateway")) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** Whether a session is READY (or RESUMED) and connected. */
  get connected(): boolean {
    return this.current?.socket !== undefined;
  }

  /** Whether a client has identified (its events are kept while it reconnects). */
  get hasSession(): boolean {
    return this.current !== undefined;
  }

  /** Sends a dispatch event to the current session (or keeps it for its RESUME while disconnected). */
  dispatch(t: string, d: unknown): void {
    const session = this.current;
    if (!session) throw new Error(`FakeGateway: no session to dispatch ${t} to`);
    const s = ++session.seq;
    if (session.socket) session.socket.send(JSON.stringify({ op: Op.Dispatch, t, s, d }));
    else session.missed.push({ t, d, s });
  }

  /** Closes the connection as Discord would on trouble (4000 = unknown error, resumable). */
  drop(code = 4000): void {
    const socket = this.current?.socket;
    if (!socket) return;
    this.closeCodes.push(code);
    if (this.current) this.current.socket = undefined;
    socket.close(code, "fake gateway drop");
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    ws.send(JSON.stringify({ op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }));
    ws.on("message", (raw) => {
      // biome-ignore lint/suspicious/noExplicitAny: gateway payloads are whatever the client sent
      let payload: { op: number; d: any };
      try {
        payload = JSON.parse(String(raw));
      } catch {
        this.closeWith(ws, 4002);
        return;
      }
      this.onPayload(ws, payload);
      this.onChange();
    });
    ws.on("close", () => {
      for (const session of this.sessions.values()) if (session.socket === ws) session.socket = undefined;
      this.onChange();
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: gateway payloads are whatever the client sent
  private onPayload(ws: WebSocket, payload: { op: number; d: any }): void {
    switch (payload.op) {
      case Op.Heartbeat:
        this.heartbeats++;
        ws.send(JSON.stringify({ op: Op.HeartbeatAck }));
        return;
      case Op.Identify: {
        const { token, intents } = payload.d ?? {};
        this.identifies.push({ token, intents });
        if (token !== this.options.token) {
          this.closeWith(ws, 4004);
          return;
        }
        if (!this.options.messageContentAllowed && (intents & MESSAGE_CONTENT_INTENT) !== 0) {
          this.closeWith(ws, 4014);
          return;
        }
        const session: Session = { id: `session-${++this.sessionCounter}`, seq: 0, socket: ws, missed: [] };
        this.sessions.set(session.id, session);
        this.current = session;
        this.dispatch("READY", {
          ...this.options.ready(),
          session_id: session.id,
          resume_gateway_url: this.options.gatewayUrl(),
          shard: [0, 1],
        });
        for (const guild of this.options.guilds()) this.dispatch("GUILD_CREATE", guild);
        return;
      }
      case Op.Resume: {
        const { token, session_id, seq } = payload.d ?? {};
        this.resumes.push({ session_id, seq });
        const session = this.sessions.get(session_id);
        if (token !== this.options.token || !session) {
          ws.send(JSON.stringify({ op: Op.InvalidSession, d: false }));
          return;
        }
        session.socket = ws;
        this.current = session;
        const missed = session.missed.splice(0).filter((m) => m.s > seq);
        for (const m of missed) ws.send(JSON.stringify({ op: Op.Dispatch, ...m }));
        this.dispatch("RESUMED", {});
        return;
      }
      default:
        return;
    }
  }

  private closeWith(ws: WebSocket, code: number): void {
    this.closeCodes.push(code);
    ws.close(code);
  }
}
