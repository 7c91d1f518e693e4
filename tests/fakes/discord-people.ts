import type { FakeAttachment } from "./discord-cdn.js";
import { customIdOf } from "./discord-checks.js";
import type { FakeGateway } from "./discord-gateway.js";
import { buttonInteraction, commandInteraction } from "./discord-interactions.js";
import type { FakeDiscordApi, FakeMessage } from "./discord-rest.js";
import {
  type FakeChannel,
  type FakeUser,
  type FakeWorld,
  messagePayload,
  snowflake,
} from "./discord-world.js";

/**
 * What people do in the fake Discord, as Discord delivers it to the bot:
 * write (also replies and forwards), edit, open forum posts and threads, run
 * a slash command, press a button. FakeDiscord is the rest.
 */
export abstract class FakeDiscordPeople {
  abstract readonly world: FakeWorld;
  abstract readonly gateway: FakeGateway;
  protected abstract readonly api: FakeDiscordApi;

  /** Every message of the fake guild, people's and the bot's, by id. */
  get messages(): Map<string, FakeMessage> {
    return this.api.messages;
  }

  /**
   * A person writes in a channel (see messagePayload for mentions); `replyTo`
   * makes it a reply, `forward` a forward of that message (no content of its
   * own, a snapshot of the other). Returns the message id.
   */
  say(options: {
    channel: FakeChannel;
    content: string;
    author?: FakeUser;
    replyTo?: string;
    forward?: string;
    attachments?: FakeAttachment[];
    type?: number;
    /** The message's id (a forum post's first message has the post's id). */
    id?: string;
  }): string {
    const { channel } = options;
    const author = options.author ?? this.world.alice;
    const replied = options.replyTo ? this.messages.get(options.replyTo) : undefined;
    const forwarded = options.forward ? this.messages.get(options.forward) : undefined;
    const id = options.id ?? snowflake();
    const payload = messagePayload({
      id,
      channel,
      author,
      content: options.content,
      world: this.world,
      attachments: options.attachments,
      type: options.type,
      replied,
      forwarded,
    });
    this.api.store({
      id,
      channelId: channel.id,
      authorId: author.id,
      content: options.content,
      replyTo: replied?.id,
      payload,
    });
    this.gateway.dispatch("MESSAGE_CREATE", { ...payload, channel_type: channel.type });
    return id;
  }

  /** A person edits their message (MESSAGE_UPDATE). */
  editByUser(messageId: string, content: string): void {
    const m = this.messages.get(messageId);
    if (!m) throw new Error(`no message ${messageId}`);
    m.content = content;
    m.versions.push(content);
    m.payload = { ...m.payload, content, edited_timestamp: new Date().toISOString() };
    this.gateway.dispatch("MESSAGE_UPDATE", m.payload);
  }

  /**
   * A person opens a post in a forum channel: THREAD_CREATE, then its first
   * message, whose id is the post's.
   * @see https://discord.com/developers/docs/topics/threads#forums
   */
  startForumPost(options: { name: string; content: string; author?: FakeUser; forum?: FakeChannel }): {
    post: FakeChannel;
    messageId: string;
  } {
    const author = options.author ?? this.world.alice;
    const post = this.world.addThread((options.forum ?? this.world.forum).id, options.name, author);
    this.gateway.dispatch("THREAD_CREATE", { ...this.world.channelPayload(post), newly_created: true });
    const messageId = this.say({ channel: post, content: options.content, author, id: post.id });
    return { post, messageId };
  }

  /**
   * A person starts a thread from a message: the thread has the message's id,
   * and begins with a THREAD_STARTER_MESSAGE (type 21) pointing at it.
   * @see https://discord.com/developers/docs/resources/message#message-reference-content-attribution-thread-starter-messages
   */
  startThread(options: { from: string; name: string; author?: FakeUser }): FakeChannel {
    const root = this.messages.get(options.from);
    if (!root) throw new Error(`FakeDiscord: no message ${options.from}`);
    const parent = this.world.channels.get(root.channelId)!;
    const author = options.author ?? this.world.alice;
    const thread = this.world.addThread(parent.id, options.name, author, root.id);
    this.gateway.dispatch("THREAD_CREATE", { ...this.world.channelPayload(thread), newly_created: true });
    const id = snowflake();
    const base = messagePayload({ id, channel: thread, author, content: "", world: this.world, type: 21 });
    const payload = {
      ...base,
      message_reference: { type: 0, message_id: root.id, channel_id: parent.id, guild_id: parent.guild_id },
      referenced_message: root.payload,
    };
    this.api.store({
      id,
      channelId: thread.id,
      authorId: author.id,
      content: "",
      replyTo: undefined,
      payload,
    });
    return thread;
  }

  /**
   * A person runs a slash command; returns the interaction id. `options` as
   * Discord sends them (a subcommand nests its own); `permissions`: the
   * member's in the channel, as a bit-set string (default: all).
   */
  slash(options: {
    channel: FakeChannel;
    name?: string;
    user?: FakeUser;
    options?: unknown[];
    permissions?: string;
  }): string {
    const { channel } = options;
    const user = options.user ?? this.world.alice;
    const id = snowflake();
    const token = this.api.interactions.start(id, channel);
    const name = options.name ?? "reset";
    this.gateway.dispatch(
      "INTERACTION_CREATE",
      commandInteraction(this.world, { id, token, channel, user, name, ...pick(options) }),
    );
    return id;
  }

  /**
   * A person presses the button labelled `label` under one of the bot's
   * messages (it must be showing); returns the interaction id.
   */
  click(options: { messageId: string; label: string; user?: FakeUser }): string {
    const message = this.messages.get(options.messageId);
    if (!message) throw new Error(`FakeDiscord: no message ${options.messageId}`);
    const customId = customIdOf(message.components, options.label);
    if (!customId) {
      const shown = message.states.at(-1)?.buttons.join(", ") || "none";
      throw new Error(
        `FakeDiscord: message ${message.id} shows no "${options.label}" button (it shows: ${shown})`,
      );
    }
    const channel = this.world.channels.get(message.channelId)!;
    const id = snowflake();
    const token = this.api.interactions.start(id, channel, message.id);
    this.gateway.dispatch(
      "INTERACTION_CREATE",
      buttonInteraction(this.world, {
        id,
        token,
        channel,
        user: options.user ?? this.world.alice,
        customId,
        message: message.payload,
      }),
    );
    return id;
  }
}

/** The slash command's options and permissions, when given. */
function pick(o: { options?: unknown[]; permissions?: string }): {
  options?: unknown[];
  permissions?: string;
} {
  return { ...(o.options && { options: o.options }), ...(o.permissions && { permissions: o.permissions }) };
}
