import type { FakeChannel, FakeUser, FakeWorld } from "./discord-world.js";

/** Message reference types. @see https://discord.com/developers/docs/resources/message#message-reference-types */
const REFERENCE_DEFAULT = 0;
const REFERENCE_FORWARD = 1;

/**
 * A message as Discord returns and dispatches it. Mentions are resolved from
 * the content (`<@id>`, `<@&id>`) as Discord does; a reply also mentions the
 * replied-to author (Discord's default ping). A forward has no content of its
 * own: it carries a snapshot of the forwarded message (without its author).
 * @see https://discord.com/developers/docs/resources/message#message-snapshot-object
 */
export function messagePayload(fields: {
  id: string;
  channel: FakeChannel;
  author: FakeUser;
  content: string;
  world: FakeWorld;
  attachments?: unknown[];
  type?: number;
  replied?: { id: string; authorId: string; payload: Record<string, unknown> };
  /** The message this one forwards (`message_reference` type 1 with `message_snapshots`). */
  forwarded?: { id: string; channelId: string; payload: Record<string, unknown> };
  /** Message components (action rows of buttons), as the bot sent them. */
  components?: unknown[];
  /** The bot's own messages come back without `member`. */
  withMember?: boolean;
}): Record<string, unknown> {
  const { channel, world, replied, forwarded } = fields;
  const inGuild = channel.guild_id !== undefined;
  const mentions = world.people.filter(
    (u) => new RegExp(`<@!?${u.id}>`).test(fields.content) || u.id === replied?.authorId,
  );
  return {
    id: fields.id,
    type: fields.type ?? (replied ? 19 : 0),
    channel_id: channel.id,
    ...(inGuild && { guild_id: channel.guild_id }),
    author: fields.author,
    ...(inGuild &&
      fields.withMember !== false && { member: world.memberPayload(fields.author, false, channel.guild_id) }),
    content: fields.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: mentions.map((u) =>
      inGuild ? { ...u, member: world.memberPayload(u, false, channel.guild_id) } : u,
    ),
    mention_roles: [...fields.content.matchAll(/<@&(\d+)>/g)].map((m) => m[1]),
    attachments: fields.attachments ?? [],
    embeds: [],
    pinned: false,
    flags: 0,
    components: fields.components ?? [],
    ...(replied && {
      message_reference: {
        type: REFERENCE_DEFAULT,
        message_id: replied.id,
        channel_id: channel.id,
        guild_id: channel.guild_id,
      },
      referenced_message: replied.payload,
    }),
    ...(forwarded && {
      message_reference: {
        type: REFERENCE_FORWARD,
        message_id: forwarded.id,
        channel_id: forwarded.channelId,
        ...(typeof forwarded.payload.guild_id === "string" && { guild_id: forwarded.payload.guild_id }),
      },
      message_snapshots: [{ message: snapshotOf(forwarded.payload) }],
    }),
  };
}

/** The fields a snapshot keeps of a forwarded message (no author, no id). */
function snapshotOf(payload: Record<string, unknown>): Record<string, unknown> {
  const keep = [
    "type",
    "content",
    "embeds",
    "attachments",
    "timestamp",
    "edited_timestamp",
    "flags",
    "mentions",
    "mention_roles",
    "components",
  ];
  return {
    ...Object.fromEntries(keep.map((k) => [k, payload[k]])),
    stickers: [],
    sticker_items: [],
  };
}
