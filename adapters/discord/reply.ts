import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  DiscordAPIError,
  type RateLimitData,
  RateLimitError,
  type SendableChannels,
} from "discord.js";
import type { Logger } from "../../src/log.js";
import {
  type EditableReply,
  type EditBudget,
  type MessageRef,
  PlatformRateLimitError,
  type Update,
} from "../../src/stream/index.js";

/**
 * Discord's limit on a message's content.
 * @see https://discord.com/developers/docs/resources/message#create-message-jsonform-params
 */
export const DISCORD_MAX_CHARS = 2_000;

/**
 * Sent with every message and edit: whatever the model writes, nobody is
 * pinged (no @everyone/@here, role or user mentions), not even the person the
 * answer replies to.
 */
export const NO_PINGS = { parse: [], repliedUser: false } as const;

/**
 * Which REST requests come back to us as a RateLimitError instead of being
 * queued by @discordjs/rest: message create and edit, so the renderer sees the
 * 429 (as PlatformRateLimitError) and pauses the channel's shared edit budget
 * rather than every stream in the channel piling up in the REST queue.
 * Everything else (typing, interactions, commands) keeps discord.js's retry.
 */
export function rejectMessageRateLimits(data: RateLimitData): boolean {
  // @discordjs/rest reports the bucket route with ids replaced: /channels/:id/messages[/:id].
  return /^\/channels\/(:id|\d+)\/messages(\/(:id|\d+))?$/.test(data.route);
}

/** The controls of an answer, as the `custom_id` of their buttons names them. */
export type ControlKind = "stop" | "regenerate";

/**
 * A button's `custom_id`: the control and the turn it acts on (1-100 characters).
 * @see https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id
 */
export function controlId(kind: ControlKind, turnId: string): string {
  return `chatbot:${kind}:${turnId}`;
}

export function parseControlId(customId: string): { kind: ControlKind; turnId: string } | undefined {
  const m = customId.match(/^chatbot:(stop|regenerate):(.{1,80})$/);
  return m ? { kind: m[1] as ControlKind, turnId: m[2]! } : undefined;
}

type ButtonRow = APIActionRowComponent<APIButtonComponent>;

/**
 * One action row with one button.
 * @see https://discord.com/developers/docs/components/reference#button
 */
function buttonRow(kind: ControlKind, turnId: string): ButtonRow {
  const label = kind === "stop" ? "Stop" : "Regenerate";
  return {
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Secondary, label, custom_id: controlId(kind, turnId) },
    ],
  };
}

/**
 * The buttons a message of the answer carries, from what the renderer says of
 * it: Stop while it is being written, Regenerate on the answer's last message
 * once it is done, none on a message closed at a split. Sent with every post
 * and edit (an edit that leaves them out would keep the old ones).
 */
export function controlsFor(update: Update, turnId: string): ButtonRow[] {
  if (!update.final) return [buttonRow("stop", turnId)];
  return update.last ? [buttonRow("regenerate", turnId)] : [];
}

export interface DiscordReplyOptions {
  /** The user's message, answered as a reply (in servers). */
  replyTo?: string;
  /** The turn the answer's Stop and Regenerate buttons act on; none without it. */
  turnId?: string;
  /** Called with each message posted for the answer, before it is edited (the reply chain). */
  onPosted?: (messageId: string) => Promise<void>;
}

/**
 * The EditableReply over one Discord channel. The first post replies to the
 * user's message in a server (not in DMs); continuation messages are plain.
 * Texts arrive rendered (toDiscordText). The buttons ride on the posts and
 * edits the renderer makes anyway, so they cost no request of their own.
 */
export class DiscordReply implements EditableReply {
  readonly maxChars = DISCORD_MAX_CHARS;
  readonly budget: EditBudget;
  private readonly channel: SendableChannels;
  private replyTo: string | undefined;
  private readonly turnId: string | undefined;
  private readonly onPosted: ((messageId: string) => Promise<void>) | undefined;

  constructor(channel: SendableChannels, budget: EditBudget, options: DiscordReplyOptions = {}) {
    this.channel = channel;
    this.budget = budget;
    this.replyTo = options.replyTo;
    this.turnId = options.turnId;
    this.onPosted = options.onPosted;
  }

  render(markdown: string): string {
    return toDiscordText(markdown);
  }

  async post(text: string, update: Update): Promise<MessageRef> {
    let id: string;
    try {
      const message = await this.channel.send({
        content: text,
        allowedMentions: NO_PINGS,
        ...this.controls(update),
        ...(this.replyTo && { reply: { messageReference: this.replyTo, failIfNotExists: false } }),
      });
      this.replyTo = undefined;
      id = message.id;
    } catch (err) {
      throw toReplyError(err);
    }
    await this.onPosted?.(id);
    return { id };
  }

  async edit(ref: MessageRef, text: string, update: Update): Promise<void> {
    try {
      await this.channel.messages.edit(ref.id, {
        content: text,
        allowedMentions: NO_PINGS,
        ...this.controls(update),
      });
    } catch (err) {
      throw toReplyError(err);
    }
  }

  private controls(update: Update): { components?: ButtonRow[] } {
    return this.turnId === undefined ? {} : { components: controlsFor(update, this.turnId) };
  }
}

/**
 * Markdown as Discord renders it. Discord knows `#` to `###` headings but
 * shows `####` and deeper literally, so those become bold lines. Discord
 * refuses empty or blank content.
 */
export function toDiscordText(markdown: string): string {
  let inFence = false;
  const lines = markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) return line;
    const heading = line.match(/^#{4,6}\s+(.+?)\s*#*\s*$/);
    return heading ? `**${heading[1]}**` : line;
  });
  const text = lines.join("\n");
  return text.trim().length === 0 ? "…" : text;
}

export function toReplyError(err: unknown): unknown {
  if (err instanceof RateLimitError) {
    return new PlatformRateLimitError(err.retryAfter > 0 ? err.retryAfter : Math.max(err.timeToReset, 1_000));
  }
  return err;
}

/** Discord error codes a bot meets when a server's permissions leave it out. */
const PERMISSION_CODES = new Set([50001, 50013]);

/** Logs why a post or edit failed, with the channel, so an admin can fix the permissions. */
export function logSendFailure(
  log: Logger,
  err: unknown,
  where: { channelId: string; guildId: string | null },
): void {
  if (err instanceof DiscordAPIError && PERMISSION_CODES.has(Number(err.code))) {
    log.warn(
      { ...where, code: err.code },
      "Discord: the bot may not send messages in this channel (missing permission); grant it View Channel, Send Messages, Send Messages in Threads and Read Message History there",
    );
    return;
  }
  if (err instanceof DiscordAPIError && Number(err.code) === 10008) {
    log.info(where, "Discord: the answer was deleted while it was being written");
    return;
  }
  log.error({ ...where, err }, "Discord: could not post or edit the answer");
}
