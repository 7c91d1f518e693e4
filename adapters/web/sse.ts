import type { ServerResponse } from "node:http";

/**
 * One Server-Sent Events message. Multi-line data goes out as several `data:`
 * lines, which a standard parser joins with "\n", so the text survives exactly
 * (a lone "\r" or "\r\n" comes back as "\n": SSE has no way to carry them).
 */
export function formatEvent(event: string, data: string): string {
  const lines = data.split(/\r\n|\r|\n/);
  return `event: ${event}\n${lines.map((l) => `data: ${l}`).join("\n")}\n\n`;
}

/**
 * Writes an SSE stream to a raw Node response, waiting on `drain` so a slow
 * reader holds the model back instead of growing a buffer without bound; a
 * reader that takes nothing for `idleTimeoutMs` is cut off, so it cannot hold
 * the socket (and a model call) forever.
 */
export class SseWriter {
  private readonly res: ServerResponse;
  private closed = false;

  constructor(
    res: ServerResponse,
    private readonly idleTimeoutMs = 72_000,
  ) {
    this.res = res;
    res.once("close", () => {
      this.closed = true;
    });
  }

  /** Whether the client went away (or the stream was ended). */
  get isClosed(): boolean {
    return this.closed || this.res.destroyed || this.res.writableEnded;
  }

  /** Sends headers and a comment line at once, so the client knows the stream is live before any token. */
  open(headers: Record<string, string | number | string[]>): void {
    this.res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx buffers proxied responses unless told not to.
      "x-accel-buffering": "no",
    });
    this.res.write(": connected\n\n");
  }

  send(event: string, data: string): Promise<void> {
    return this.write(formatEvent(event, data));
  }

  /** A comment line; proxies drop idle connections, so long silences get one of these. */
  ping(): void {
    if (!this.isClosed) this.res.write(": ping\n\n");
  }

  end(): void {
    if (!this.isClosed) this.res.end();
  }

  private write(chunk: string): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (this.res.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const stalled = setTimeout(() => this.res.destroy(), this.idleTimeoutMs);
      const done = () => {
        clearTimeout(stalled);
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.once("drain", done);
      this.res.once("close", done);
    });
  }
}
