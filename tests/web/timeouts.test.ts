import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startWeb, type WebHarness } from "./harness.js";

let t: WebHarness | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A raw client: what it received, whether the server closed on it, and how much it managed to send. */
interface Raw {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

function open(baseUrl: string): Promise<Raw> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () =>
      resolve({ socket, received, closed }),
    );
    let data = "";
    const received = () => data;
    socket.on("data", (c) => (data += c));
    socket.on("error", () => undefined);
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.once("error", reject);
  });
}

/** Writes `text` one character every `everyMs` until done or the server closes; returns how many it wrote. */
async function trickle(raw: Raw, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  let closed = false;
  void raw.closed.then(() => (closed = true));
  for (const ch of text) {
    if (closed || raw.socket.destroyed) break;
    raw.socket.write(ch);
    sent++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

const head = (port: string, length: number) =>
  `POST /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe("slow clients cannot hold sockets", () => {
  it("closes a request whose body trickles in past WEB_REQUEST_TIMEOUT_MS, with 408 and a reason", async () => {
    t = await startWeb({ web: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const { port } = new URL(t.baseUrl);
    const body = JSON.stringify({ message: "x".repeat(400) });
    const raw = await open(t.baseUrl);
    raw.socket.write(head(port, body.length));
    // One byte every 25 ms: the whole body would take 10 s.
    const sent = await trickle(raw, body, 25);
    await raw.closed;
    expect(sent).toBeLessThan(body.length);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw.received()).toContain('"code":"request_timeout"');
    expect(t.fake.requests).toHaveLength(0);
  });

  it("closes a connection whose headers trickle in past WEB_HEADERS_TIMEOUT_MS", async () => {
    t = await startWeb({ web: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const raw = await open(t.baseUrl);
    const sent = await trickle(
      raw,
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"p".repeat(400)}`,
      25,
    );
    await raw.closed;
    expect(sent).toBeLessThan(400);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection that sends nothing at all within WEB_HEADERS_TIMEOUT_MS", async () => {
    t = await startWeb({ web: { headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 60_000 } });
    const raw = await open(t.baseUrl);
    const gone = await Promise.race([
      raw.closed.then(() => "closed by the server"),
      new Promise((r) => setTimeout(() => r("still open after 10 s"), 10_000)),
    ]);
    expect(gone).toBe("closed by the server");
    raw.socket.destroy();
  });

  it("closes a keep-alive connection left idle past WEB_IDLE_TIMEOUT_MS", async () => {
    t = await startWeb({ web: { idleTimeoutMs: 300 } });
    const raw = await open(t.baseUrl);
    raw.socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.received()).toMatch(/keep-alive/i);
  });

  it("still takes a slow but steady upload that arrives within the limit", async () => {
    t = await startWeb({ web: { headersTimeoutMs: 5_000, requestTimeoutMs: 20_000 } });
    const { port } = new URL(t.baseUrl);
    const message = "y".repeat(9_000);
    const body = JSON.stringify({ message });
    const raw = await open(t.baseUrl);
    raw.socket.write(head(port, body.length));
    // 20 pieces, 30 ms apart: slow, but far inside 20 s.
    for (let i = 0; i < 20; i++) {
      raw.socket.write(body.slice((i * body.length) / 20, ((i + 1) * body.length) / 20));
      await new Promise((r) => setTimeout(r, 30));
    }
    for (let i = 0; i < 500 && !raw.received().includes("You said"); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.received()).toContain(`You said: ${message}`);
    raw.socket.destroy();
  });
});
