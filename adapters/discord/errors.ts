export type DiscordStartErrorCode =
  | "discord_no_token"
  | "discord_bad_token"
  | "discord_disallowed_intents"
  | "discord_shard_failed";

/** Start-up failed for a reason the person running the bot has to fix. */
export class DiscordStartError extends Error {
  readonly code: DiscordStartErrorCode;
  constructor(code: DiscordStartErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "DiscordStartError";
    this.code = code;
  }
}
