import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FromFakes, ToFakes } from "./protocol.js";

export type Ready = Extract<FromFakes, { type: "ready" }>;
export type Trace = Extract<FromFakes, { type: "trace" }>;

/** The fakes' process (fakes.ts), asked one thing at a time. */
export class RemoteFakes {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ready,
  ) {}

  static async start(): Promise<RemoteFakes> {
    const child = fork(fileURLToPath(new URL("./fakes.ts", import.meta.url)), [], { stdio: "inherit" });
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once("message", (m: FromFakes) => (m.type === "ready" ? resolve(m) : reject(new Error(m.type))));
      child.once("exit", (code) => reject(new Error(`the fakes' process exited (${code})`)));
    });
    return new RemoteFakes(child, ready);
  }

  private ask<T extends FromFakes["type"]>(
    message: ToFakes,
    answer: T,
  ): Promise<Extract<FromFakes, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.child.once("message", (m: FromFakes) =>
        m.type === answer ? resolve(m as Extract<FromFakes, { type: T }>) : reject(new Error(m.type)),
      );
      this.child.send(message);
    });
  }

  async pace(pace: { tokens: number; tokensPerS: number; ttftMs: number }): Promise<void> {
    await this.ask({ type: "pace", pace }, "ok");
  }

  async say(channelId: string, content: string): Promise<string> {
    return (await this.ask({ type: "say", channelId, content }, "said")).id;
  }

  /** Resolves once every question's answer shows a final text (or after timeoutMs): whether all did. */
  async finished(questions: string[], cursor: string, timeoutMs: number): Promise<boolean> {
    return (await this.ask({ type: "await", questions, cursor, timeoutMs }, "finished")).all;
  }

  trace(): Promise<Trace> {
    return this.ask({ type: "trace" }, "trace");
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ type: "close" });
    await exited;
  }
}
