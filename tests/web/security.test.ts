import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, readSse, startWeb, type WebHarness } from "./harness.js";

let t: WebHarness;

beforeAll(async () => {
  t = await startWeb();
});

afterAll(async () => {
  await t.close();
});

describe("API key", () => {
  let k: WebHarness;
  const key = "web-key-0123456789";

  beforeAll(async () => {
    k = await startWeb({ web: { apiKey: key } });
  });

  afterAll(async () => {
    await k.close();
  });

  const routes: Array<[string, string, unknown?]> = [
    ["POST", "/chat", { message: "hi" }],
    ["POST", "/chat/stream", { message: "hi" }],
    ["GET", `/conversations/${randomUUID()}`],
    ["DELETE", `/conversations/${randomUUID()}`],
  ];

  it.each(routes)("%s %s needs the key", async (method, path, body) => {
    const modelCalls = k.fake.requests.length;
    for (const authorization of [undefined, "Bearer wrong-key-0123456789", `Basic ${key}`, key, "Bearer "]) {
      const res = await fetch(k.baseUrl + path, {
        method,
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await res.json()).error.code).toBe("unauthorized");
    }
    expect(k.fake.requests.length).toBe(modelCalls);
  });

  it("accepts the right key", async () => {
    const headers = { authorization: `Bearer ${key}` };
    const res = await post(k.baseUrl, "/chat", { message: "hi" }, { headers });
    expect(res.status).toBe(200);
    const { conversation_id } = await res.json();
    const stream = await post(k.baseUrl, "/chat/stream", { message: "again", conversation_id }, { headers });
    expect((await readSse(stream)).text).toBe("You said: again");
    const history = await fetch(`${k.baseUrl}/conversations/${conversation_id}`, { headers });
    expect((await history.json()).messages).toHaveLength(4);
  });

  it("leaves health, the page and its assets open, and tells the page a key is needed", async () => {
    expect((await fetch(`${k.baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${k.baseUrl}/`, { headers: { accept: "text/html" } })).status).toBe(200);
    expect((await fetch(`${k.baseUrl}/assets/app.js`)).status).toBe(200);
    const config = await (await fetch(`${k.baseUrl}/ui/config`)).json();
    expect(config.authRequired).toBe(true);
    expect(JSON.stringify(config)).not.toContain(key);
  });
});

describe("CORS", () => {
  it("is off by default: no CORS headers and no preflight", async () => {
    const res = await post(
      t.baseUrl,
      "/chat",
      { message: "hi" },
      { headers: { origin: "https://evil.example" } },
    );
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${t.baseUrl}/chat`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows only the configured origins, streams included", async () => {
    const c = await startWeb({
      web: { corsOrigins: ["https://app.example"], apiKey: "cors-key-0123456789" },
    });
    try {
      const preflight = await fetch(`${c.baseUrl}/chat/stream`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type, authorization",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
      expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/i);

      const headers = { origin: "https://app.example", authorization: "Bearer cors-key-0123456789" };
      const stream = await post(c.baseUrl, "/chat/stream", { message: "hi" }, { headers });
      expect(stream.headers.get("access-control-allow-origin")).toBe("https://app.example");
      expect(stream.headers.get("access-control-expose-headers")).toMatch(/x-conversation-id/);
      expect((await readSse(stream)).text).toBe("You said: hi");

      const other = await post(
        c.baseUrl,
        "/chat",
        { message: "hi" },
        { headers: { ...headers, origin: "https://evil.example" } },
      );
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await c.close();
    }
  });
});
