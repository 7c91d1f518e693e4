/** Snowflake ids of the fake Discord, and which shard a guild lands on. */

/** Discord's epoch (2015-01-01) in ms; snowflakes count from it. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
let increment = 0n;

/** A real-looking snowflake (18-19 digits), increasing with time. */
export function snowflake(): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(Date.now()) - DISCORD_EPOCH_MS) << 22n) | increment).toString();
}

/**
 * The shard a guild's events go to, Discord's formula: `(guild_id >> 22) % shard_count`.
 * Events without a guild (DMs) go to shard 0.
 */
export function shardOf(guildId: string | undefined, shardCount: number): number {
  if (guildId === undefined) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** A snowflake whose guild would land on `shardId` of `shardCount` (its timestamp is nudged back a few ms). */
export function snowflakeOnShard(shardId: number, shardCount: number): string {
  increment = (increment + 1n) % 4096n;
  const count = BigInt(shardCount);
  const ms = BigInt(Date.now()) - DISCORD_EPOCH_MS;
  const onShard = ms - ((((ms - BigInt(shardId)) % count) + count) % count);
  return ((onShard << 22n) | increment).toString();
}
