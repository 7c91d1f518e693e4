import { request } from "node:http";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../src/config/index.js";
import { ModelCallLimiter } from "../src/turn/index.js";
import { startWeb, type WebHarness } from "../tests/web/harness.js";
import { sockets } from "./hardening-sockets.js";

/**
 * The adversarial probe of issue 20, against the web adapter with the
 * defaults a bot started with no settings has (per-client limits, timeouts,
 * the global cap on model calls): foreign Host headers, slow clients holding
 * sockets, and spend from many clients and many streams. Prints Markdown.
 * Takes about 2½ minutes (the slow-body run waits out WEB_REQUEST_TIMEOUT_MS).
 */

const defaults = loadConfig({ env: {} });

interface Answer {
  status: number;
  body: string;
}

/** One request from `localAddress` (127.0.0.N: a client of its own), Host as given. */
function send(
  t: WebHarness,
  options: { method?: string; path: string; host?: string; body?: unknown; from?: string },
): Promise<Answer> {
  const url = new URL(t.baseUrl);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? "GET",
        path: options.path,
        localAddress: options.from,
        agent: false,
        headers: {
          host: options.host ?? url.host,
          ...(body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end(body);
  });
}

const _pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const fmt = (n: number) => n.toLocaleString("en-US");

async function foreignHosts(t: WebHarness): Promise<void> {
  const port = new URL(t.baseUrl).port;
  const names = [
    "evil.example",
    "rebind.evil.example",
    "127.0.0.1.nip.io",
    "localhost.evil.example",
    "LOCALHOST.EVIL.EXAMPLE",
    "evil.example.",
    "10.0.0.1",
    "192.168.1.10",
    "[::ffff:7f00:1]",
    "0.0.0.0",
    "127.1",
    "2130706433",
    "xn--evl-6na.example",
    "a".repeat(200),
  ];
  // Node's client would replace an empty Host with the real one, so ":port" stands for "no name".
  const hosts = [...names.flatMap((n) => [n, `${n}:${port}`, `${n}:80`]), `:${port}`];
  const routes: Array<{ method: string; path: string; body?: unknown }> = [
    { method: "POST", path: "/chat", body: { message: "hi" } },
    { method: "POST", path: "/chat/stream", body: { message: "hi" } },
    { method: "GET", path: "/conversations/3f1c9a2e-0000-4000-8000-000000000000" },
    { method: "DELETE", path: "/conversations/3f1c9a2e-0000-4000-8000-000000000000" },
    { method: "GET", path: "/" },
    { method: "GET", path: "/ui/config" },
    { method: "GET", path: "/assets/app.js" },
  ];
  const calls = t.fake.requests.length;
  let refused = 0;
  let total = 0;
  for (const host of hosts) {
    for (const route of routes) {
      const res = await send(t, { ...route, host });
      total++;
      // 403: not our host; 400: Node refuses a request with no usable Host at all.
      if (res.status === 403 || res.status === 400) refused++;
    }
  }
  console.log("\n**Foreign Host headers** (DNS rebinding)\n");
  console.log("| requests | refused (403/400) | refused % | model calls |");
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| ${fmt(total)} | ${fmt(refused)} | ${((100 * refused) / total).toFixed(1)} % | ${t.fake.requests.length - calls} |`,
  );
}

async function spend(t: WebHarness, limiter: ModelCallLimiter): Promise<void> {
  const rate = defaults.web.ratePerMinute;
  // 20 clients (20 source addresses), 8 requests at a time each, for 20 s.
  t.fake.respond(() => ({ text: "ok" }));
  let calls = t.fake.requests.length;
  const statuses = new Map<number, number>();
  const end = performance.now() + 20_000;
  await Promise.all(
    Array.from({ length: 20 }, (_, c) =>
      Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() < end) {
            const res = await send(t, {
              method: "POST",
              path: "/chat",
              body: { message: "hi" },
              from: `127.0.0.${c + 10}`,
            });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      ),
    ),
  );
  const answered = t.fake.requests.length - calls;
  const bound = 20 * rate;
  console.log(`\n**Spend from 20 clients for 20 s** (WEB_RATE_LIMIT_PER_MINUTE=${rate})\n`);
  console.log("| requests | 200 | 429 | model calls | allowed by the limits | model calls past the limits |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  console.log(
    `| ${fmt(total)} | ${fmt(statuses.get(200) ?? 0)} | ${fmt(statuses.get(429) ?? 0)} | ${fmt(answered)} | ${fmt(bound)} | ${fmt(Math.max(0, answered - bound))} |`,
  );

  // 200 streams at once from one client (a fresh address, so its rate window is fresh).
  t.fake.respond(() => ({ text: "a slow answer ".repeat(20), chunkDelayMs: 20 }));
  calls = t.fake.requests.length;
  const one = await Promise.all(
    Array.from({ length: 200 }, () =>
      send(t, { method: "POST", path: "/chat/stream", body: { message: "hi" }, from: "127.0.0.200" }),
    ),
  );
  const accepted = one.filter((r) => r.status === 200).length;
  console.log(
    `\n**200 streams at once from one client** (WEB_MAX_CONCURRENT_PER_CLIENT=${defaults.web.maxConcurrentPerClient})\n`,
  );
  console.log("| streams | accepted | 429 | model calls |");
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| 200 | ${accepted} | ${one.filter((r) => r.status === 429).length} | ${t.fake.requests.length - calls} |`,
  );

  // 200 streams at once from 200 clients: the global cap holds the model calls.
  t.fake.respond(() => ({ text: "x".repeat(60), chunkDelayMs: 180 }));
  calls = t.fake.requests.length;
  let maxActive = 0;
  const sampler = setInterval(() => {
    maxActive = Math.max(maxActive, limiter.active);
  }, 5);
  const many = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      send(t, {
        method: "POST",
        path: "/chat/stream",
        body: { message: "hi" },
        from: `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      }),
    ),
  );
  clearInterval(sampler);
  const { maxConcurrent, queueTimeoutMs } = defaults.modelCalls;
  console.log(
    `\n**200 streams at once from 200 clients** (LLM_MAX_CONCURRENT_CALLS=${maxConcurrent}, LLM_QUEUE_TIMEOUT_MS=${queueTimeoutMs})\n`,
  );
  console.log("| streams | answered | 503 busy | most model calls at once | model calls past the cap |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    `| 200 | ${many.filter((r) => r.status === 200).length} | ${many.filter((r) => r.status === 503 && r.body.includes('"busy"')).length} | ${maxActive} | ${Math.max(0, maxActive - maxConcurrent)} |`,
  );
  void t.fake.requests.length;
}

export async function runHardeningProbe(): Promise<void> {
  const limiter = new ModelCallLimiter(defaults.modelCalls);
  const t = await startWeb({
    web: {
      ratePerMinute: defaults.web.ratePerMinute,
      maxConcurrentPerClient: defaults.web.maxConcurrentPerClient,
    },
    bot: { botOptions: { modelCalls: limiter } },
  });
  try {
    console.log("\n### Hardening probe (defaults of a bot started with no settings)");
    await foreignHosts(t);
    await spend(t, limiter);
    await sockets(t);
  } finally {
    await t.close();
  }
}
