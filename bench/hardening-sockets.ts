import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../src/config/index.js";
import type { WebHarness } from "../tests/web/harness.js";

/** The probe's slow and silent clients: how long the server lets each hold its socket. */

const defaults = loadConfig({ env: {} });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const fmt = (n: number) => n.toLocaleString("en-US");

/** Connections are opened 100 at a time, 100 ms apart, so the kernel's accept queue (511) never overflows. */
const stagger = (i: number) => new Promise((r) => setTimeout(r, Math.floor(i / 100) * 100));

/**
 * Opens `count` connections that send headers (and body) one byte every
 * `everyMs` (nothing at all when 0); ms from connecting until the server
 * closed each, or Infinity when it had not after `giveUpMs`.
 */
async function slowClients(
  t: WebHarness,
  count: number,
  everyMs: number,
  body: boolean,
  giveUpMs: number,
): Promise<number[]> {
  const { hostname, port } = new URL(t.baseUrl);
  const head = body
    ? `POST /chat HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`
    : "";
  const trickled = body
    ? "x".repeat(1000)
    : `POST /chat HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${"X-Pad: p\r\n".repeat(100)}`;
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await stagger(i);
      return new Promise<number>((resolve) => {
        let started = performance.now();
        const socket = connect({
          host: hostname,
          port: Number(port),
          localAddress: `127.0.3.${(i % 250) + 1}`,
        });
        let sent = 0;
        let timer: NodeJS.Timeout | undefined;
        const giveUp = setTimeout(() => {
          resolve(Number.POSITIVE_INFINITY);
          socket.destroy();
        }, giveUpMs);
        socket.on("connect", () => {
          started = performance.now();
          if (head) socket.write(head);
          if (everyMs === 0) return;
          // The first byte at once, then one every `everyMs`.
          socket.write(trickled[sent++]!);
          timer = setInterval(() => {
            if (sent < trickled.length) socket.write(trickled[sent++]!);
          }, everyMs);
        });
        socket.on("error", () => undefined);
        socket.on("data", () => undefined);
        socket.on("close", () => {
          clearInterval(timer);
          clearTimeout(giveUp);
          resolve(performance.now() - started);
        });
      });
    }),
  );
}

async function idleClients(t: WebHarness, count: number): Promise<number[]> {
  const { hostname, port } = new URL(t.baseUrl);
  return Promise.all(
    Array.from({ length: count }, async (_, i) =>
      stagger(i).then(
        () =>
          new Promise<number>((resolve) => {
            const socket = connect({ host: hostname, port: Number(port) });
            let answeredAt = 0;
            socket.on("connect", () =>
              socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`),
            );
            socket.on("data", () => {
              answeredAt ||= performance.now();
            });
            socket.on("error", () => undefined);
            socket.on("close", () => resolve(performance.now() - answeredAt));
          }),
      ),
    ),
  );
}

export async function sockets(t: WebHarness): Promise<void> {
  const { headersTimeoutMs, requestTimeoutMs, idleTimeoutMs } = defaults.web;
  const count = Number(process.env.PROBE_CLIENTS ?? 1_000);
  const groups: [Promise<number[]>, Promise<number[]>, Promise<number[]>, Promise<number[]>] = [
    slowClients(t, count, 0, false, headersTimeoutMs * 3 + 30_000),
    slowClients(t, count, 10_000, false, headersTimeoutMs * 3 + 30_000),
    slowClients(t, count, 10_000, true, requestTimeoutMs + 60_000),
    idleClients(t, 200),
  ];
  const [silent, headers, bodies, idle] = await Promise.all(groups);
  console.log(
    "\n**Slow clients** (1 byte every 10 s, or nothing; ms from connecting until the server closed it)\n",
  );
  console.log("| clients | bound (ms) | closed by the server | within bound + 2 s | p50 (ms) | max (ms) |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  const row = (what: string, xs: number[], bound: number) =>
    console.log(
      `| ${what} | ${fmt(bound)} | ${xs.filter(Number.isFinite).length} | ${xs.filter((x) => x <= bound + 2_000).length} | ${fmt(Math.round(pct(xs, 50)))} | ${fmt(Math.round(Math.max(...xs)))} |`,
    );
  row(`${fmt(count)} silent (connect, send nothing)`, silent, headersTimeoutMs);
  row(`${fmt(count)} trickling headers`, headers, headersTimeoutMs);
  row(`${fmt(count)} trickling bodies`, bodies, requestTimeoutMs);
  row("200 idle keep-alive", idle, idleTimeoutMs);
}
