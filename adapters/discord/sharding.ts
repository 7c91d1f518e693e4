import { ChildProcess } from "node:child_process";
import { type Client, type Shard, ShardingManager } from "discord.js";
import { StartError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import { relayShardQuestions } from "./shard-ipc.js";

/**
 * Discord sharding with discord.js's ShardingManager: one process per shard,
 * each running the whole composition root. discord.js hands every process its
 * shard through the environment (SHARDS, SHARD_COUNT), and its Client picks
 * that up by itself, so the shard processes need no code of their own.
 *
 * Shard 0 is the "home" shard: Discord sends it every DM, so it also runs the
 * web server and Slack; the other shards run Discord only (they would fight
 * over the port and answer each Slack event twice), which the manager tells
 * each process with the composition root's `--surfaces` argument. A
 * single-shard setup is therefore exactly the ordinary bot.
 */

export interface ShardManagerOptions {
  /** The composition root every shard process runs (dist/src/main.js, or src/main.ts). */
  file: string;
  /** Node flags for the shard processes, e.g. `["--import", "tsx"]` to run a .ts file. */
  execArgv: string[];
  token: string;
  /** How many shards in all (one process each). */
  count: number;
  /**
   * Pause between starting two shards (ms), and the least wait before
   * restarting one that crashed: Discord allows one IDENTIFY per 5 s unless
   * the bot's max_concurrency is higher.
   */
  spawnDelayMs: number;
  /** How long a shard may take to log in before start-up fails (ms). Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * How long a shard may take to stop after SIGTERM (its own shutdown grace
   * plus margin) before it is killed (ms).
   */
  stopTimeoutMs: number;
  log: Logger;
}

/** Crashed shards are restarted after spawnDelayMs, doubling per crash within this window. */
const CRASH_WINDOW_MS = 10 * 60_000;
const MAX_RESTART_DELAY_MS = 5 * 60_000;

/**
 * The composition root's arguments for a shard process: which shard it is
 * (so it answers the others through the manager), and only shard 0 runs web and Slack.
 */
export function shardArguments(shardId: number): string[] {
  return shardId === 0 ? ["--shard=0"] : [`--shard=${shardId}`, "--surfaces=discord"];
}

/**
 * The shard processes of one bot. `start` launches them one after the other;
 * `stop` ends them all gracefully. Crashes after start-up are restarted.
 */
export class DiscordShards {
  readonly count: number;
  private readonly manager: ShardingManager;
  private readonly options: ShardManagerOptions;
  private readonly log: Logger;
  /** Every shard process still running, with the promise of its exit code. */
  private readonly alive = new Map<ChildProcess, Promise<number | null>>();
  private started = false;
  private stopping = false;

  constructor(options: ShardManagerOptions) {
    this.options = options;
    this.count = options.count;
    this.log = options.log;
    this.manager = new ShardingManager(options.file, {
      totalShards: options.count,
      token: options.token,
      execArgv: options.execArgv,
      mode: "process",
      // Restarts are ours (see restart): discord.js would restart at once, forever, also during start-up.
      respawn: false,
    });
    this.manager.on("shardCreate", (shard) => this.watch(shard));
    // Shard 0's /metrics and /ready ask every shard through here.
    relayShardQuestions(this.manager, this.log);
  }

  /**
   * Starts the shards and resolves once all are logged in. If one exits or
   * times out first, the others are stopped and it rejects with StartError
   * (the shard's own output says why).
   */
  async start(): Promise<void> {
    const { count, spawnDelayMs } = this.options;
    this.log.info(
      count === 1
        ? "Discord: starting 1 shard in its own process"
        : `Discord: starting ${count} shards, one process each; web and Slack run on shard 0 only`,
    );
    try {
      await this.manager.spawn({ amount: count, delay: spawnDelayMs, timeout: this.readyTimeoutMs });
    } catch (err) {
      await this.stop();
      throw new StartError(
        "discord_shard_failed",
        `A Discord shard did not start (${err instanceof Error ? err.message : String(err)}); its output above says why.`,
        { cause: err },
      );
    }
    this.started = true;
    this.log.info({ shards: count }, "Discord: every shard is ready");
  }

  /**
   * Sends every shard process SIGTERM (each finishes or ends its turns with a
   * final edit, as a single bot does on SIGTERM), kills those still running
   * after `stopTimeoutMs`, and resolves once all have exited: true when every
   * one exited with code 0.
   */
  async stop(): Promise<boolean> {
    this.stopping = true;
    for (const child of this.alive.keys()) child.kill("SIGTERM");
    const killTimer = setTimeout(() => {
      for (const child of this.alive.keys()) {
        this.log.error({ childPid: child.pid }, "Discord shard: did not stop in time, killing it");
        child.kill("SIGKILL");
      }
    }, this.options.stopTimeoutMs);
    let clean = true;
    // A loop: a shard spawned while stopping is told to stop too (see watch) and joins `alive`.
    while (this.alive.size > 0) {
      const codes = await Promise.all(this.alive.values());
      if (codes.some((code) => code !== 0)) clean = false;
    }
    clearTimeout(killTimer);
    return clean;
  }

  private get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs ?? 60_000;
  }

  private watch(shard: Shard): void {
    const { count } = this;
    // Read when the shard spawns (and respawns): after shardCreate, before the process starts.
    shard.args = shardArguments(shard.id);
    const crashes: number[] = [];
    shard.on("spawn", (child) => {
      // mode "process": always a ChildProcess, never a Worker.
      if (!(child instanceof ChildProcess)) return;
      this.alive.set(
        child,
        new Promise((resolve) =>
          child.once("exit", (code) => {
            this.alive.delete(child);
            resolve(code);
          }),
        ),
      );
      this.log.info(
        { shard: shard.id, childPid: child.pid },
        `Discord shard ${shard.id}/${count}: started (pid ${child.pid})`,
      );
      if (this.stopping) child.kill("SIGTERM");
    });
    shard.on("ready", () => this.log.info({ shard: shard.id }, `Discord shard ${shard.id}/${count}: ready`));
    shard.on("death", (child) => {
      if (this.stopping || !(child instanceof ChildProcess)) return;
      this.log.warn(
        { shard: shard.id, childPid: child.pid, exitCode: child.exitCode, signal: child.signalCode },
        `Discord shard ${shard.id}: process exited`,
      );
      if (this.started) this.restart(shard, crashes);
    });
    // Without a listener an "error" event (a failed spawn) would crash the manager.
    shard.on("error", (err) => this.log.error({ err, shard: shard.id }, `Discord shard ${shard.id}: error`));
  }

  /** Restarts a crashed shard after spawnDelayMs (at least 1 s), doubling per recent crash. */
  private restart(shard: Shard, crashes: number[]): void {
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
    const delayMs = Math.min(
      MAX_RESTART_DELAY_MS,
      Math.max(1_000, this.options.spawnDelayMs) * 2 ** (crashes.length - 1),
    );
    this.log.warn({ shard: shard.id, delayMs }, `Discord shard ${shard.id}: restarting in ${delayMs} ms`);
    setTimeout(() => {
      if (this.stopping || shard.process) return;
      shard.spawn(this.readyTimeoutMs).catch((err: unknown) => {
        this.log.error({ err, shard: shard.id }, `Discord shard ${shard.id}: restart failed`);
      });
    }, delayMs).unref();
  }
}

/** Whether this client holds shard 0 (so it does the once-per-bot work, such as registering commands). */
export function holdsFirstShard(client: Client): boolean {
  const shards = client.options.shards;
  return !Array.isArray(shards) || shards.includes(0);
}

/**
 * In a shard process: when the manager goes away (crashed or killed), stop
 * this shard as if it got SIGTERM, so no orphan keeps answering alongside the
 * shards of a new manager. SIGTERM to itself runs the composition root's
 * graceful shutdown.
 */
export function stopWithManager(client: Client, log: Logger): void {
  if (client.shard?.mode !== "process") return;
  // discord.js tells the manager about every gateway state change (also while this shard shuts down);
  // with the manager gone that send fails with an "error" event on process, which would crash the shard.
  process.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "ERR_IPC_CHANNEL_CLOSED") return;
    log.error({ err }, "Discord: could not reach the shard manager");
  });
  process.once("disconnect", () => {
    log.warn("Discord: the shard manager is gone; stopping this shard");
    process.kill(process.pid, "SIGTERM");
  });
}
