import type { FakeChannel, FakeUser, FakeWorld } from "./discord-world.js";

/**
 * A message as Discord returns and dispatches it. Mentions are resolved from
 * the content (`<@id>`, `<@&id>`) as Discord does; a reply also mentions the
 * replied-to author (Discord's default ping).
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
  /** The bot's own messages come back without `member`. */
  withMember?: boolean;
}): Record<string, unknown> {
  const { channel, world, replied } = fields;
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
    components: [],
    ...(replied && {
      message_reference: {
        type: 0,
        message_id: replied.id,
        channel_id: channel.id,
        guild_id: channel.guild_id,
      },
      referenced_message: replied.payload,
    }),
  };
}
