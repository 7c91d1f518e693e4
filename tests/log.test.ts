import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe("logs never contain secrets", () => {
  it("redacts secret fields and scrubs known secret values and token shapes anywhere in a line", async () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, secrets: ["my-exact-secret-value"], pretty: false });
    log.info({ config: { apiKey: "sk-live-abcdefghijk", token: "xoxb-123-456-abcdefgh" } }, "config loaded");
    log.error({ err: new Error("401 Incorrect API key provided: sk-proj-ABCDEFGHIJKLMNOP") }, "model failed");
    log.warn({ headers: { authorization: "Bearer abc.def.ghijklmnop" } }, "request");
    log.info("the value my-exact-secret-value leaked in a message, and xapp-1-A0123-4567890-abcdef too");
    log.info({ discord: "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GAbCdE.abcdefghijklmnopqrstuvwxyz0123" }, "token");
    await new Promise((r) => setImmediate(r));
    const all = lines.join("");
    expect(lines).toHaveLength(5);
    for (const secret of [
      "sk-live-abcdefghijk",
      "xoxb-123-456-abcdefgh",
      "sk-proj-ABCDEFGHIJKLMNOP",
      "abc.def.ghijklmnop",
      "my-exact-secret-value",
      "xapp-1-A0123-4567890-abcdef",
      "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GAbCdE",
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain("[redacted]");
    expect(all).toContain("config loaded");
    expect(JSON.parse(lines[0]!).level).toBe(30);
  });
});
