import { type ChildProcess, spawn } from "node:child_process";

const root = new URL("../..", import.meta.url).pathname;

/** One pino JSON line from the manager or a shard (each carries its pid). */
export interface Line {
  pid: number;
  msg: string;
  shard?: number;
  turn?: { conversationId: string };
  [key: string]: unknown;
}

/**
 * The sharded mode (src/main.ts --shards) as its own process, like `npm run dev:shards`
 * but with `node --import tsx` so the pid is the manager itself (the tsx CLI forks).
 */
export class Sharded {
  private out = "";
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (c) => {
      this.out += c;
    });
    child.stderr?.on("data", (c) => {
      this.out += c;
    });
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static start(env: Record<string, string>): Sharded {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--shards"], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new Sharded(child);
  }

  /** Resolves once the manager reports every shard logged in; rejects if it exits first. */
  async ready(timeoutMs = 40_000): Promise<void> {
    const isReady = () => this.lines().some((l) => l.msg === "Discord: every shard is ready");
    await until(
      () => isReady() || this.child.exitCode !== null,
      "every shard to be ready",
      timeoutMs,
      () => this.out,
    );
    if (!isReady()) throw new Error(`the sharded bot exited before it was ready:\n${this.out}`);
  }

  get output(): string {
    return this.out;
  }

  lines(): Line[] {
    return this.out.split("\n").flatMap((l) => {
      try {
        const parsed = JSON.parse(l);
        return typeof parsed === "object" && parsed !== null ? [parsed as Line] : [];
      } catch {
        return [];
      }
    });
  }

  /** The pids shard `id` has run as, oldest first (from the manager's "started (pid N)" lines). */
  pidsOf(id: number): number[] {
    return this.lines()
      .filter((l) => l.pid === this.child.pid && l.shard === id && typeof l.childPid === "number")
      .filter((l) => l.msg.includes("started (pid"))
      .map((l) => l.childPid as number);
  }

  /** The pid of the process that finished a turn of the conversation. */
  answeredBy(conversationId: string): number[] {
    return this.lines()
      .filter((l) => l.msg === "turn done" && l.turn?.conversationId === conversationId)
      .map((l) => l.pid);
  }
}

/** Resolves once `check` holds; rejects after `timeoutMs` naming `what`, with `out()` for context. */
export const until = async (check: () => boolean, what: string, timeoutMs = 20_000, out?: () => string) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${out?.() ?? ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Whether a process with this pid is running. */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
