import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/index.js";
import { createLogger } from "../../src/log.js";
import { startWeb, type WebHarness } from "./harness.js";

let t: WebHarness;

beforeAll(async () => {
  t = await startWeb();
});

afterAll(async () => {
  await t.close();
});

describe("GET / and /health", () => {
  it("answers API clients with a status", async () => {
    const res = await fetch(`${t.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "healthy", service: "chatbot" });
    const health = await fetch(`${t.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect((await health.json()).status).toBe("healthy");
  });

  it("gives a browser the chat page and its assets", async () => {
    const res = await fetch(`${t.baseUrl}/`, {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    // app.js imports its modules itself; the browser test loads those.
    expect(assets).toEqual([
      "assets/app.css",
      "assets/markdown.css",
      "assets/marked.js",
      "assets/purify.js",
      "assets/app.js",
    ]);
    for (const src of assets) {
      const asset = await fetch(`${t.baseUrl}/${src}`);
      expect(asset.status, src).toBe(200);
      expect((await asset.text()).length, src).toBeGreaterThan(100);
    }
    const config = await (await fetch(`${t.baseUrl}/ui/config`)).json();
    expect(config).toMatchObject({ cursor: "▌", authRequired: false, model: { configured: true } });
  });
});

describe("start-up", () => {
  async function startupLines(web: Partial<Config["web"]>): Promise<string[]> {
    const lines: string[] = [];
    const log = createLogger({ level: "info", destination: { write: (line: string) => lines.push(line) } });
    const s = await startWeb({ web, log });
    await s.close();
    return lines.map((l) => JSON.parse(l).msg as string);
  }

  it("says the API is reachable from this machine only when there is no API key", async () => {
    const lines = await startupLines({ host: "127.0.0.1" });
    expect(lines.some((l) => /this machine only/.test(l) && /WEB_API_KEY/.test(l))).toBe(true);
  });

  it("says requests need the key when one is set", async () => {
    const lines = await startupLines({ host: "0.0.0.0", apiKey: "startup-key-0123456789" });
    expect(lines.some((l) => /Authorization: Bearer/.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("startup-key-0123456789");
  });
});

describe.skipIf(!existsSync("/usr/bin/curl"))("the README's curl lines", () => {
  const run = promisify(execFile);

  it("curl -X POST /chat works as written", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "-X",
      "POST",
      `${t.baseUrl}/chat`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"message": "Hello! How are you?", "stream": false}',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ response: "You said: Hello! How are you?" });
  });

  it("curl -N -X POST /chat/stream works as written", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "-N",
      "-X",
      "POST",
      `${t.baseUrl}/chat/stream`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"message": "Tell me a short joke"}',
    ]);
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e) });
    parser.feed(stdout);
    const text = events
      .filter((e) => e.event === "token")
      .map((e) => e.data)
      .join("");
    expect(text).toBe("You said: Tell me a short joke");
    expect(events.at(-1)?.event).toBe("done");
  });
});
