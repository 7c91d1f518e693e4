import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lastUserText } from "../fakes/llm-server.js";
import { FakeOpenAI } from "../fakes/openai.js";
import { FakeSlack } from "../fakes/slack.js";
import { eventEnvelope, type SlackPayload, type SlackPoster, slackPoster } from "../fakes/slackEvents.js";
import { ALICE, BOB, keep, SIGNING_SECRET, slowly } from "../slack/harness.js";

const root = new URL("../..", import.meta.url).pathname;

/** One bot process (src/main.ts) serving Slack HTTP events on its own port. */
export interface Replica {
  name: string;
  child: ChildProcess;
  /** Signed requests to this replica's POST /slack/events, as Slack sends them. */
  post: SlackPoster;
  /** Its web API: http://127.0.0.1:<port> */
  baseUrl: string;
  /** Everything it wrote to stdout and stderr (pino JSON lines), for failure messages. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * Starts src/main.ts as its own process, as `npm run dev` would but with
 * `node --import tsx` so the pid is the bot itself (the tsx CLI forks a child,
 * and a SIGKILL to it would orphan the real bot), and resolves once it listens.
 */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: "0",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c) => {
    out += c;
  });
  child.stderr?.on("data", (c) => {
    out += c;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = out.match(/chat page and API at (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m?.[1]) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 25);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`replica ${name} exited before listening:\n${out}`));
    });
  });
  if (!out.includes("Slack: on (HTTP events")) {
    child.kill("SIGKILL");
    throw new Error(`replica ${name} started without Slack HTTP events:\n${out}`);
  }
  return {
    name,
    child,
    post: slackPoster(`${baseUrl}/slack/events`, SIGNING_SECRET),
    baseUrl,
    output: () => out,
    exited,
  };
}

/** Starts one replica per name, all with `env`; if any fails to start, stops the others and throws. */
export async function startReplicas(names: string[], env: Record<string, string>): Promise<Replica[]> {
  const started = await Promise.allSettled(names.map((name) => startReplica(name, env)));
  const replicas = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await stopReplicas(replicas, 500);
    throw failed.reason;
  }
  return replicas;
}

/** The warnings and errors a replica logged (pino levels 40+), to explain a failed test. */
export function problemsLogged(replica: Replica): string {
  return replica
    .output()
    .split("\n")
    .filter((line) => /"level":(4|5|6)\d/.test(line) || (line.trim() !== "" && !line.startsWith("{")))
    .join("\n");
}

/** Stops replicas: SIGTERM, then SIGKILL for any still running after `graceMs`. */
export async function stopReplicas(replicas: Array<Replica | undefined>, graceMs = 2_000): Promise<void> {
  await Promise.all(
    replicas.map(async (r) => {
      if (!r || r.child.exitCode !== null || r.child.signalCode !== null) return;
      r.child.kill("SIGTERM");
      const timer = setTimeout(() => r.child.kill("SIGKILL"), graceMs);
      await r.exited;
      clearTimeout(timer);
    }),
  );
}

/** The answer the fake model gives to `question` (streamed quickly or slowly). */
export function answerFor(question: string): string {
  return `You said: ${question}`;
}

/**
 * The fake model's behaviour, picked from the question so every process
 * sharing it gets the same: "SLOW" streams for about a second, "LONG" for
 * about a minute (a word every half second), "STALL" sends a little and then
 * never ends, anything else is a quick echo.
 */
export function replicaResponder(body: unknown) {
  const question = lastUserText(body);
  if (question.includes("LONG"))
    return { chunks: Array.from({ length: 120 }, (_, i) => `word${i} `), chunkDelayMs: 500 };
  if (question.includes("STALL")) return { chunks: ["Thinking", " hard"], stallAfterChunks: 2 };
  if (question.includes("SLOW")) return slowly(answerFor(question), 12, 80);
  return { text: answerFor(question) };
}

/**
 * One Slack workspace (a FakeSlack with a workspace id of its own, so keys in
 * the shared Redis or Postgres never meet another run's) and one FakeOpenAI,
 * shared by every replica started with `env()`.
 */
export class World {
  /** Unique per run: ids in the shared backend outlive the test (dedupe claims last an hour). */
  readonly runId = randomBytes(4).toString("hex").toUpperCase();
  private seq = 0;

  private constructor(
    readonly slack: FakeSlack,
    readonly model: FakeOpenAI,
  ) {}

  static async start(): Promise<World> {
    const slack = await FakeSlack.start({
      teamId: `T${randomBytes(4).toString("hex").toUpperCase()}`,
      // Messages carry the time they were written: replicas answer a thread in that order.
      realTime: true,
    });
    slack.addUser(ALICE);
    slack.addUser(BOB);
    const model = await FakeOpenAI.start();
    model.respond(replicaResponder);
    return new World(slack, model);
  }

  /** What every replica of this world gets in its environment. */
  env(storeUrl: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      SLACK_BOT_TOKEN: this.slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.slack.apiUrl,
      OPENAI_BASE_URL: this.model.baseUrl,
      OPENAI_API_KEY: "sk-test-replicas",
      LLM_MODEL: "gpt-test",
      LLM_MAX_RETRIES: "0",
      STORE_URL: storeUrl,
      SHUTDOWN_TIMEOUT_MS: "500",
      ...extra,
    };
  }

  /** A channel id no other test or run uses. */
  channel(): string {
    return `C${this.runId}${++this.seq}`;
  }

  eventId(): string {
    return `Ev${this.runId}${++this.seq}`;
  }

  /** Keeps a person's message in the workspace (as Slack does) and wraps its event in an envelope. */
  envelope(event: SlackPayload, eventId = this.eventId()): SlackPayload {
    keep(this.slack, event);
    return eventEnvelope(this.slack, event, eventId);
  }

  /** The bot's messages in a thread, as a user sees them now. */
  botTexts(channel: string, threadTs: string): string[] {
    return this.slack.botMessagesIn(channel, threadTs).map((m) => m.text);
  }

  /** Waits until the bot's messages in the thread read `expected`, in order. */
  async waitForTexts(channel: string, threadTs: string, expected: string[], timeoutMs = 15_000) {
    await this.slack.waitFor(
      () => JSON.stringify(this.botTexts(channel, threadTs)) === JSON.stringify(expected),
      timeoutMs,
      `bot messages ${JSON.stringify(expected)} (now ${JSON.stringify(this.botTexts(channel, threadTs))})`,
    );
  }

  /** Waits until one of the bot's messages in the thread reads `text` (finished: no cursor). */
  async waitForText(channel: string, threadTs: string, text: string, timeoutMs = 15_000) {
    await this.slack.waitFor(
      () => this.botTexts(channel, threadTs).includes(text),
      timeoutMs,
      `a bot message ${JSON.stringify(text)} (now ${JSON.stringify(this.botTexts(channel, threadTs))})`,
    );
  }

  /** The chat-completions requests whose last user message is `question`. */
  requestsFor(question: string) {
    return this.model.requests.filter((r) => lastUserText(r.body) === question);
  }

  /**
   * The first chat.postMessage or chat.update into `channel` after which a
   * bot message read as `matches` says: its ts and when the fake got the call.
   */
  firstShown(channel: string, matches: (text: string) => boolean): { ts: string; at: number } | undefined {
    const calls = [...this.callsIn(channel, "chat.postMessage"), ...this.callsIn(channel, "chat.update")];
    const shown = calls
      .filter((c) => c.response?.ok === true && matches(String(c.response.message?.text ?? "")))
      .sort((a, b) => a.at - b.at)[0];
    return shown ? { ts: String(shown.response?.ts), at: shown.at } : undefined;
  }

  /** chat.postMessage and chat.update calls made into a channel. */
  callsIn(channel: string, method: "chat.postMessage" | "chat.update") {
    return this.slack.callsTo(method).filter((c) => c.params.channel === channel);
  }

  async close(): Promise<void> {
    await this.model.close();
    await this.slack.close();
  }
}

/** Resolves once `check` holds, polling; rejects after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
