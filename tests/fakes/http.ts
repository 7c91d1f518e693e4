import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * An HTTP server on 127.0.0.1 for a fake platform: a free port, and a close
 * that also cuts open connections (streams, keep-alive) so tests end at once.
 */
export class LocalHttpServer {
  readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private listeningPort = 0;

  constructor(handler: (req: IncomingMessage, res: ServerResponse) => unknown) {
    this.server = createServer((req, res) => void handler(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  /** The port it listens on (0 before listen). */
  get port(): number {
    return this.listeningPort;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.listeningPort = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The whole request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** JSON when it parses, else the text itself; undefined for an empty body. */
export function jsonOr(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
