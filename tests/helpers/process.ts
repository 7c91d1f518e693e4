import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParser, type EventSourceMessage } from "eventsource-parser";

const root = new URL("../..", import.meta.url).pathname;

/** A bot started as a user would (src/main.ts), in its own process. */
export interface Running {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Every bot this helper started and that has not exited yet. */
const alive = new Set<ChildProcess>();

/**
 * SIGKILLs every bot still running: for afterEach, so a test that timed out
 * while its bot was still starting leaves no process behind.
 */
export function killStartedBots(): void {
  for (const child of alive) child.kill("SIGKILL");
}

/** A fresh SQLite STORE_URL in a temp folder. */
export function tempStoreUrl(): string {
  return `sqlite://${join(mkdtempSync(join(tmpdir(), "chatbot-main-")), "m.sqlite")}`;
}

/** Spawns src/main.ts with `env` (PORT=0, a fresh SQLite store unless STORE_URL is given). */
export function spawnBot(env: Record<string, string>): Omit<Running, "baseUrl"> {
  // node itself, not the tsx CLI: that one runs the bot in a child of its own, which a
  // SIGKILL to the CLI would leave running.
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: "0",
      LOG_LEVEL: "info",
      STORE_URL: tempStoreUrl(),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  alive.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      alive.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => out, exited };
}

/** Starts the bot as a user would (src/main.ts), in its own process, on a free port; resolves once it listens. */
export async function startBot(env: Record<string, string>): Promise<Running> {
  const started = spawnBot(env);
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = started.output().match(/chat page and API at (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 50);
    void started.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`the bot exited (${code}) before listening:\n${started.output()}`));
    });
  });
  return { ...started, baseUrl };
}

/** Opens /chat/stream and collects its events as they come. */
export async function openStream(baseUrl: string, message: string, conversationId?: string) {
  const events: EventSourceMessage[] = [];
  const res = await fetch(`${baseUrl}/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(conversationId ? { message, conversation_id: conversationId } : { message }),
  });
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const done = (async () => {
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })();
  const text = () =>
    events
      .filter((e) => e.event === "token")
      .map((e) => e.data)
      .join("");
  return { res, events, done, text, conversationId: res.headers.get("x-conversation-id") ?? "" };
}

/** Waits for a condition, checking every 20 ms; fails after `ms`. */
export const until = async (check: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};
