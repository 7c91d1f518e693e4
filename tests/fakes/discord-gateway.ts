import type { Server } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { shardOf } from "./discord-world.js";

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
  /**
   * The READY payload (without session fields) and the GUILD_CREATE payloads
   * of every guild; a shard gets READY and GUILD_CREATE for its guilds only.
   */
  ready: () => Record<string, unknown>;
  guilds: () => Record<string, unknown>[];
  heartbeatIntervalMs: number;
  /** Where clients resume (resume_gateway_url). */
  gatewayUrl: () => string;
}

/** What IDENTIFY asked for: `shard: [shard_id, num_shards]`, [0, 1] when absent. */
export type ShardInfo = [number, number];

/** What a client sent in IDENTIFY. */
export interface Identify {
  token: string;
  intents: number;
  shard: ShardInfo | undefined;
}

interface Session {
  id: string;
  shard: ShardInfo;
  seq: number;
  socket: WebSocket | undefined;
  /** Dispatches sent while the socket was gone; replayed on RESUME, as Discord does. */
  missed: Array<{ t: string; d: unknown; s: number }>;
}

/**
 * The Discord gateway on a WebSocket at the fake server's `/gateway`: HELLO,
 * IDENTIFY -> READY + GUILD_CREATE, heartbeats and ACKs, RESUME -> replay +
 * RESUMED, close code 4004 for a wrong token, 4010 for an invalid shard and
 * 4014 for a disallowed intent. Sharding as Discord does it: each session is
 * the shard IDENTIFY named, and a guild's events go only to shard
 * `(guild_id >> 22) % num_shards`; DMs go to shard 0.
 * JSON encoding, no compression (what discord.js asks for without zlib-sync).
 */
export class FakeGateway {
  /** IDENTIFY payloads received, in order. */
  readonly identifies: Identify[] = [];
  readonly resumes: Array<{ session_id: string; seq: number }> = [];
  /** Close codes the fake sent. */
  readonly closeCodes: number[] = [];
  heartbeats = 0;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  /** The live session of each shard id (the latest to IDENTIFY or RESUME as it). */
  private readonly shards = new Map<number, Session>();
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

  /** Whether there is a session and every shard's session is connected. */
  get connected(): boolean {
    return this.shards.size > 0 && [...this.shards.values()].every((s) => s.socket !== undefined);
  }

  /** Whether a client has identified (its events are kept while it reconnects). */
  get hasSession(): boolean {
    return this.shards.size > 0;
  }

  /** Which shard an event goes to: its guild's (`guild_id`, or `id` for GUILD_*), else 0. */
  shardFor(t: string, d: unknown): number {
    const data = (d ?? {}) as { guild_id?: string; id?: string };
    const guildId = data.guild_id ?? (t.startsWith("GUILD_") ? data.id : undefined);
    const count = [...this.shards.values()][0]?.shard[1] ?? 1;
    return shardOf(guildId, count);
  }

  /** Whether the shard that `dispatch(t, d)` would go to has a session. */
  canDispatch(t: string, d: unknown): boolean {
    return this.shards.has(this.shardFor(t, d));
  }

  /**
   * Sends a dispatch event to the session of the shard it belongs to (or
   * keeps it for that session's RESUME while disconnected).
   */
  dispatch(t: string, d: unknown): void {
    const shardId = this.shardFor(t, d);
    const session = this.shards.get(shardId);
    if (!session) throw new Error(`FakeGateway: no session on shard ${shardId} to dispatch ${t} to`);
    this.send(session, t, d);
  }

  /** Closes a shard's connection as Discord would on trouble (4000 = unknown error, resumable). */
  drop(code = 4000, shardId = 0): void {
    const session = this.shards.get(shardId);
    const socket = session?.socket;
    if (!session || !socket) return;
    this.closeCodes.push(code);
    session.socket = undefined;
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
        const { token, intents, shard } = payload.d ?? {};
        this.identifies.push({ token, intents, shard });
        if (token !== this.options.token) {
          this.closeWith(ws, 4004);
          return;
        }
        const info: ShardInfo = shard ?? [0, 1];
        if (!validShard(info)) {
          this.closeWith(ws, 4010);
          return;
        }
        if (!this.options.messageContentAllowed && (intents & MESSAGE_CONTENT_INTENT) !== 0) {
          this.closeWith(ws, 4014);
          return;
        }
        const session: Session = {
          id: `session-${++this.sessionCounter}`,
          shard: info,
          seq: 0,
          socket: ws,
          missed: [],
        };
        this.sessions.set(session.id, session);
        this.shards.set(info[0], session);
        const guilds = this.options.guilds().filter((g) => shardOf(String(g.id), info[1]) === info[0]);
        this.send(session, "READY", {
          ...this.options.ready(),
          guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
          session_id: session.id,
          resume_gateway_url: this.options.gatewayUrl(),
          shard: info,
        });
        for (const guild of guilds) this.send(session, "GUILD_CREATE", guild);
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
        this.shards.set(session.shard[0], session);
        const missed = session.missed.splice(0).filter((m) => m.s > seq);
        for (const m of missed) ws.send(JSON.stringify({ op: Op.Dispatch, ...m }));
        this.send(session, "RESUMED", {});
        return;
      }
      default:
        return;
    }
  }

  private send(session: Session, t: string, d: unknown): void {
    const s = ++session.seq;
    if (session.socket) session.socket.send(JSON.stringify({ op: Op.Dispatch, t, s, d }));
    else session.missed.push({ t, d, s });
  }

  private closeWith(ws: WebSocket, code: number): void {
    this.closeCodes.push(code);
    ws.close(code);
  }
}

/** Discord closes with 4010 (Invalid shard) unless 0 <= shard_id < num_shards. */
function validShard(shard: unknown): shard is ShardInfo {
  if (!Array.isArray(shard) || shard.length !== 2) return false;
  const [id, count] = shard;
  return Number.isInteger(id) && Number.isInteger(count) && id >= 0 && count >= 1 && id < count;
}
