import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostOf, ownHostNames } from "../../adapters/web/guard.js";
import { startWeb, type WebHarness } from "./harness.js";

/** One raw request with the Host and headers given (fetch does not let a caller set Host). */
function send(
  baseUrl: string,
  options: { method?: string; path: string; host: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? "GET",
        path: options.path,
        headers: { host: options.host, ...options.headers },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const chat = (baseUrl: string, host: string, headers: Record<string, string> = {}) =>
  send(baseUrl, {
    method: "POST",
    path: "/chat",
    host,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ message: "hi" }),
  });

describe("Host and Origin (DNS rebinding)", () => {
  let t: WebHarness;
  let port: string;
  beforeAll(async () => {
    t = await startWeb({ web: { allowedHosts: ["chat.example.com"] } });
    port = new URL(t.baseUrl).port;
  });
  afterAll(() => t.close());

  it("refuses the API and the page to a foreign Host, with a reason, and calls no model", async () => {
    const calls = t.fake.requests.length;
    const evil = `evil.example:${port}`;
    const res = await chat(t.baseUrl, evil, { origin: `http://${evil}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatchObject({
      code: "host_not_allowed",
      message: expect.stringMatching(/WEB_ALLOWED_HOSTS/),
    });
    for (const path of [
      "/",
      "/ui/config",
      "/assets/app.js",
      "/conversations/3f1c9a2e-0000-4000-8000-000000000000",
    ]) {
      expect((await send(t.baseUrl, { path, host: evil })).status, path).toBe(403);
    }
    const stream = await send(t.baseUrl, {
      method: "POST",
      path: "/chat/stream",
      host: evil,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect(stream.status).toBe(403);
    expect(t.fake.requests.length).toBe(calls);
  });

  it("answers to its own names and the operator's public ones", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "LOCALHOST",
      "chat.example.com",
      "chat.example.com.:443",
    ]) {
      const res = await chat(t.baseUrl, host);
      expect(res.status, host).toBe(200);
    }
  });

  it("keeps /health and /ready-style probes open to any Host", async () => {
    expect((await send(t.baseUrl, { path: "/health", host: "10.0.0.7:3000" })).status).toBe(200);
  });

  it("refuses a cross-origin API request from an origin not in WEB_CORS_ORIGINS", async () => {
    const calls = t.fake.requests.length;
    const res = await chat(t.baseUrl, `127.0.0.1:${port}`, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatchObject({
      code: "origin_not_allowed",
      message: expect.stringMatching(/WEB_CORS_ORIGINS/),
    });
    const local = await chat(t.baseUrl, `127.0.0.1:${port}`, { origin: "http://127.0.0.1:1" });
    expect(local.status).toBe(403);
    expect(t.fake.requests.length).toBe(calls);
    // The page itself is same-origin.
    expect((await chat(t.baseUrl, `127.0.0.1:${port}`, { origin: `http://127.0.0.1:${port}` })).status).toBe(
      200,
    );
  });

  it("lets the configured origins in, and '*' turns the Host check off", async () => {
    const open = await startWeb({ web: { allowedHosts: ["*"], corsOrigins: ["https://app.example"] } });
    try {
      const res = await chat(open.baseUrl, "anything.example", { origin: "https://app.example" });
      expect(res.status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe("the server's own names", () => {
  it("reads Host headers as host names", () => {
    expect(hostOf("[::1]:3000")).toBe("::1");
    expect(hostOf("Example.COM.:8080")).toBe("example.com");
    expect(hostOf("::")).toBe("::");
    expect(hostOf("evil.example:3000@127.0.0.1")).toBeUndefined();
  });

  it("bound to one address: loopback, that address and the allowed names; bound to all: the machine's addresses too", () => {
    const one = ownHostNames("10.1.2.3", ["https://chat.example.com:443"]);
    expect(one).not.toBe("any");
    expect([...(one as Set<string>)].sort()).toEqual(
      ["10.1.2.3", "127.0.0.1", "::1", "chat.example.com", "localhost"].sort(),
    );
    const all = ownHostNames("0.0.0.0", []) as Set<string>;
    expect(all.has("127.0.0.1")).toBe(true);
    expect(all.size).toBeGreaterThan(3);
  });
});
