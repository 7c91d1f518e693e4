import type { MessageFinisher } from "../replicas/index.js";

/**
 * What every platform adapter's `start*` returns: the one contract between
 * the composition root and a surface (Slack, Discord, the web).
 */
export interface Surface {
  /** "slack", "discord" or "web": the platform name in logs, metrics and turn tracking. */
  readonly name: string;
  /** Whether the platform can reach the bot now (for /ready). */
  ready(): Promise<boolean>;
  /**
   * Stops taking events, lets this surface's answers in flight finish for up
   * to `graceMs`, ends the rest with the restart note, then disconnects.
   */
  stop(graceMs: number): Promise<void>;
  /** How crash recovery finishes this platform's messages a dead process left; absent when it edits none. */
  readonly finisher?: MessageFinisher;
}
