/**
 * The people, places and wire payloads of the fake Discord: one guild with a
 * text channel, a thread in it, a forum with a post, and DM channels (more
 * guilds with `addGuild`). The shapes follow Discord's API v10
 * (discord-api-types) closely enough for discord.js to build its structures
 * from them.
 */

import { snowflake, snowflakeOnShard } from "./discord-ids.js";

export { shardOf, snowflake } from "./discord-ids.js";
export { messagePayload } from "./discord-message.js";

export const ChannelTypes = { GuildText: 0, DM: 1, PublicThread: 11, GuildForum: 15 } as const;

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot?: boolean;
}

export interface FakeChannel {
  id: string;
  type: number;
  name?: string;
  guild_id?: string;
  parent_id?: string | null;
  /** DM channels: the person on the other side. */
  recipient?: FakeUser;
  /** Threads and forum posts: who started it (default Alice). */
  owner?: FakeUser;
}

/** A server the bot is in. */
export interface FakeGuild {
  id: string;
  name: string;
  /** The bot's managed role in this guild (mentionable as `<@&id>`). */
  botRoleId: string;
  /** Top-level channels (text, forum), sent in GUILD_CREATE. */
  channels: FakeChannel[];
  /** Active threads and forum posts, sent in GUILD_CREATE. */
  threads: FakeChannel[];
}

function user(username: string, globalName: string | null, bot = false): FakeUser {
  return {
    id: snowflake(),
    username,
    global_name: globalName,
    discriminator: "0",
    avatar: null,
    ...(bot && { bot }),
  };
}

/** Everything the fake server knows; tests read ids from it. */
export class FakeWorld {
  readonly applicationId = snowflake();
  readonly botUser: FakeUser = { ...user("chatbot", null, true), id: this.applicationId };
  readonly alice = user("alice", "Alice");
  readonly bob = user("bob", "Bob");
  /** A moderator: Manage Messages in every channel of the server. */
  readonly mod = user("mo", "Mo the Mod");
  /** Another bot in the server (its messages must be ignored). */
  readonly otherBot = user("otherbot", "Other Bot", true);
  readonly guildId = snowflake();
  /** The bot's managed role (mentionable as `<@&id>`). */
  readonly botRoleId = snowflake();
  readonly general: FakeChannel = { id: snowflake(), type: ChannelTypes.GuildText, name: "general" };
  readonly thread: FakeChannel = { id: snowflake(), type: ChannelTypes.PublicThread, name: "a thread" };
  readonly forum: FakeChannel = { id: snowflake(), type: ChannelTypes.GuildForum, name: "help" };
  readonly forumPost: FakeChannel = {
    id: snowflake(),
    type: ChannelTypes.PublicThread,
    name: "a forum post",
  };
  readonly aliceDm: FakeChannel = { id: snowflake(), type: ChannelTypes.DM, recipient: this.alice };
  readonly bobDm: FakeChannel = { id: snowflake(), type: ChannelTypes.DM, recipient: this.bob };
  readonly channels = new Map<string, FakeChannel>();
  /** Every guild the bot is in; the first is the one above (`guildId`, `general`, …). */
  readonly guilds: FakeGuild[];

  constructor() {
    for (const c of [this.general, this.forum]) Object.assign(c, { guild_id: this.guildId, parent_id: null });
    Object.assign(this.thread, { guild_id: this.guildId, parent_id: this.general.id });
    Object.assign(this.forumPost, { guild_id: this.guildId, parent_id: this.forum.id });
    for (const c of [this.general, this.thread, this.forum, this.forumPost, this.aliceDm, this.bobDm]) {
      this.channels.set(c.id, c);
    }
    this.guilds = [
      {
        id: this.guildId,
        name: "Test Server",
        botRoleId: this.botRoleId,
        channels: [this.general, this.forum],
        threads: [this.thread, this.forumPost],
      },
    ];
  }

  /**
   * Adds a guild with one text channel, "general". `onShard: [id, count]`
   * picks its id so that its events go to that shard of `count`.
   */
  addGuild(name: string, options: { onShard?: [number, number] } = {}): FakeGuild & { general: FakeChannel } {
    const id = options.onShard ? snowflakeOnShard(...options.onShard) : snowflake();
    const general: FakeChannel = {
      id: snowflake(),
      type: ChannelTypes.GuildText,
      name: "general",
      guild_id: id,
      parent_id: null,
    };
    const guild = { id, name, botRoleId: snowflake(), channels: [general], threads: [], general };
    this.guilds.push(guild);
    this.channels.set(general.id, general);
    return guild;
  }

  guild(guildId: string): FakeGuild {
    const found = this.guilds.find((g) => g.id === guildId);
    if (!found) throw new Error(`FakeWorld: no guild ${guildId}`);
    return found;
  }

  get people(): FakeUser[] {
    return [this.botUser, this.alice, this.bob, this.mod, this.otherBot];
  }

  /** READY without the session fields (the gateway adds those). */
  readyPayload(): Record<string, unknown> {
    return {
      v: 10,
      user: this.botUser,
      guilds: this.guilds.map((g) => ({ id: g.id, unavailable: true })),
      application: { id: this.applicationId, flags: 0 },
      user_settings: {},
      private_channels: [],
      relationships: [],
      presences: [],
      geo_ordered_rtc_regions: [],
      guild_join_requests: [],
      session_type: "normal",
      auth: {},
    };
  }

  /** Adds a thread (or, under a forum, a post) under `parentId`, as a THREAD_CREATE would. */
  addThread(parentId: string, name: string, owner?: FakeUser, id = snowflake()): FakeChannel {
    const thread: FakeChannel = {
      id,
      type: ChannelTypes.PublicThread,
      name,
      guild_id: this.channels.get(parentId)?.guild_id ?? this.guildId,
      parent_id: parentId,
      ...(owner && { owner }),
    };
    this.channels.set(thread.id, thread);
    return thread;
  }

  channelPayload(c: FakeChannel): Record<string, unknown> {
    if (c.type === ChannelTypes.DM) {
      return {
        id: c.id,
        type: c.type,
        last_message_id: null,
        flags: 0,
        recipients: c.recipient ? [c.recipient] : [],
      };
    }
    const base = {
      id: c.id,
      type: c.type,
      name: c.name,
      guild_id: c.guild_id,
      parent_id: c.parent_id ?? null,
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      rate_limit_per_user: 0,
      last_message_id: null,
      flags: 0,
    };
    if (c.type === ChannelTypes.GuildForum) {
      // @see https://discord.com/developers/docs/topics/threads#forum-and-media-channel-fields
      return {
        ...base,
        topic: null,
        available_tags: [],
        default_reaction_emoji: null,
        default_thread_rate_limit_per_user: 0,
        default_sort_order: null,
        default_forum_layout: 0,
      };
    }
    if (c.type !== ChannelTypes.PublicThread) return { ...base, topic: null };
    const inForum = this.channels.get(c.parent_id ?? "")?.type === ChannelTypes.GuildForum;
    return {
      ...base,
      ...(inForum && { applied_tags: [] }),
      owner_id: (c.owner ?? this.alice).id,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date().toISOString(),
        locked: false,
      },
    };
  }

  /** The user as a member of `guildId` (default: the first guild). */
  memberPayload(u: FakeUser, withUser = true, guildId = this.guildId): Record<string, unknown> {
    return {
      ...(withUser && { user: u }),
      nick: null,
      avatar: null,
      roles: u.id === this.botUser.id ? [this.guild(guildId).botRoleId] : [],
      joined_at: new Date(0).toISOString(),
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
    };
  }

  /** GUILD_CREATE for every guild, in order. */
  guildPayloads(): Record<string, unknown>[] {
    return this.guilds.map((g) => this.guildPayload(g));
  }

  guildPayload(guild: FakeGuild = this.guilds[0]!): Record<string, unknown> {
    const role = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
      id,
      name,
      color: 0,
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: 0,
      permissions: "274877975552",
      managed: false,
      mentionable: false,
      flags: 0,
      ...extra,
    });
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      owner_id: this.alice.id,
      unavailable: false,
      large: false,
      member_count: 5,
      joined_at: new Date(0).toISOString(),
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      features: [],
      mfa_level: 0,
      premium_tier: 0,
      preferred_locale: "en-US",
      nsfw_level: 0,
      roles: [
        role(guild.id, "@everyone"),
        role(guild.botRoleId, "chatbot", { managed: true, tags: { bot_id: this.botUser.id } }),
      ],
      emojis: [],
      stickers: [],
      channels: guild.channels.map((c) => this.channelPayload(c)),
      threads: guild.threads.map((c) => this.channelPayload(c)),
      members: this.people.map((u) => this.memberPayload(u, true, guild.id)),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }
}
