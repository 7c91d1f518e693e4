import { type FakeChannel, type FakeUser, type FakeWorld, snowflake } from "./discord-world.js";

/** JSON as it goes over the wire: whatever discord.js sent or Discord answers. */
// biome-ignore lint/suspicious/noExplicitAny: wire JSON is untyped on purpose
export type Wire = any;

/** [HTTP status, JSON body or nothing, extra headers]. */
export type RestAnswer = [number, unknown?, Record<string, string>?];

/**
 * One answer the bot gave to an interaction: the callback (`body.type` 4, 5,
 * 6 or 7), the edit of a deferred answer (`body.type` "edit"), or a followup
 * message (`body.type` "followup"), with what the fake answered.
 */
export interface InteractionCallback {
  interactionId: string;
  body: Wire;
  status: number;
}

/**
 * How long Discord accepts the first answer to an interaction; its token then
 * serves followups for 15 minutes.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-interaction
 */
const INTERACTION_DEADLINE_MS = 3_000;

/** Interaction callback types. @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type */
const Callback = { Message: 4, DeferredMessage: 5, DeferredUpdate: 6, UpdateMessage: 7 } as const;

interface Open {
  token: string;
  at: number;
  answered: boolean;
  channel: FakeChannel;
  /** A component's interaction: the message the component is on. */
  messageId?: string;
}

/** What the interaction routes need of the rest of the fake. */
export interface InteractionHost {
  /** Applies an UPDATE_MESSAGE (type 7) to the bot's message, as an edit does. */
  updateMessage(channelId: string, messageId: string, data: Wire): RestAnswer;
  /** A message payload of the bot's, for the answers of followups and edits. */
  botMessage(channel: FakeChannel, content: string, flags: number): unknown;
}

/**
 * The interaction endpoints of the fake Discord: the callback (within 3 s,
 * once), the edit of the original answer, and followup messages (which an
 * ephemeral flag keeps to the person who pressed). Errors as Discord's: 10062
 * unknown interaction, 40060 already acknowledged, 10015 unknown webhook.
 */
export class FakeInteractions {
  readonly callbacks: InteractionCallback[] = [];
  private readonly open = new Map<string, Open>();

  constructor(private readonly host: InteractionHost) {}

  /** Starts an interaction whose token is valid for Discord's 3 s; returns its token. */
  start(id: string, channel: FakeChannel, messageId?: string): string {
    const token = `interaction-token-${id}`;
    this.open.set(id, { token, at: Date.now(), answered: false, channel, ...(messageId && { messageId }) });
    return token;
  }

  /** POST /interactions/{id}/{token}/callback */
  callback(id: string, token: string, body: Wire): RestAnswer {
    const interaction = this.open.get(id);
    const record = (status: number) => this.callbacks.push({ interactionId: id, body, status });
    if (
      !interaction ||
      interaction.token !== token ||
      Date.now() - interaction.at > INTERACTION_DEADLINE_MS
    ) {
      record(404);
      return [404, { message: "Unknown interaction", code: 10062 }];
    }
    if (interaction.answered) {
      record(400);
      return [400, { message: "Interaction has already been acknowledged.", code: 40060 }];
    }
    const type = body?.type;
    const forComponent = interaction.messageId !== undefined;
    const valid =
      type === Callback.Message ||
      type === Callback.DeferredMessage ||
      (forComponent && (type === Callback.DeferredUpdate || type === Callback.UpdateMessage));
    if (!valid) {
      record(400);
      return [400, { message: "Invalid interaction application command", code: 50035 }];
    }
    if (type === Callback.UpdateMessage) {
      const [status, payload] = this.host.updateMessage(
        interaction.channel.id,
        interaction.messageId!,
        body.data ?? {},
      );
      if (status !== 200) {
        record(status);
        return [status, payload];
      }
    }
    interaction.answered = true;
    record(204);
    return [204];
  }

  /** PATCH /webhooks/{application}/{token}/messages/@original: the edit of a deferred answer. */
  editOriginal(token: string, body: Wire): RestAnswer {
    const known = this.byToken(token);
    if (!known?.[1].answered) return [404, { message: "Unknown Webhook", code: 10015 }];
    this.callbacks.push({ interactionId: known[0], body: { type: "edit", data: body }, status: 200 });
    return [200, this.host.botMessage(known[1].channel, body?.content ?? "", 0)];
  }

  /** POST /webhooks/{application}/{token}: a followup message, after the callback. */
  followup(token: string, body: Wire): RestAnswer {
    const known = this.byToken(token);
    if (!known?.[1].answered) return [404, { message: "Unknown Webhook", code: 10015 }];
    this.callbacks.push({ interactionId: known[0], body: { type: "followup", data: body }, status: 200 });
    return [200, this.host.botMessage(known[1].channel, body?.content ?? "", body?.flags ?? 0)];
  }

  private byToken(token: string): [string, Open] | undefined {
    return [...this.open.entries()].find(([, i]) => i.token === token);
  }
}

/**
 * Permission bits a member has in a channel, as `member.permissions` of an
 * interaction carries them (channel overwrites applied).
 * @see https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags
 */
const Permission = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  ReadMessageHistory: 1n << 16n,
  SendMessagesInThreads: 1n << 38n,
} as const;
const MEMBER_PERMISSIONS =
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.ReadMessageHistory |
  Permission.SendMessagesInThreads;
const ALL_PERMISSIONS = "2251799813685247";

/** What `u` may do in a server channel: what every member may, and Manage Messages for the moderator. */
function permissionsOf(world: FakeWorld, u: FakeUser): string {
  return String(u.id === world.mod.id ? MEMBER_PERMISSIONS | Permission.ManageMessages : MEMBER_PERMISSIONS);
}

interface Invocation {
  id: string;
  token: string;
  channel: FakeChannel;
  user: FakeUser;
}

/**
 * INTERACTION_CREATE for a slash command used by `i.user` in `i.channel`,
 * with its options (a subcommand nests its own) and the member's permissions
 * in the channel (default: all).
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-application-command-data-structure
 */
export function commandInteraction(
  world: FakeWorld,
  i: Invocation & { name: string; options?: unknown[]; permissions?: string },
) {
  const guildId = i.channel.guild_id;
  return interaction(world, i, i.permissions ?? ALL_PERMISSIONS, {
    type: 2,
    data: {
      id: snowflake(),
      name: i.name,
      type: 1,
      ...(guildId && { guild_id: guildId }),
      ...(i.options && { options: i.options }),
    },
  });
}

/**
 * INTERACTION_CREATE for a click on a button (component type 2) of `message`.
 * @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-message-component-data-structure
 */
export function buttonInteraction(
  world: FakeWorld,
  i: Invocation & { customId: string; message: Record<string, unknown> },
) {
  return interaction(world, i, permissionsOf(world, i.user), {
    type: 3,
    data: { custom_id: i.customId, component_type: 2 },
    message: i.message,
  });
}

/** @see https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure */
function interaction(world: FakeWorld, i: Invocation, permissions: string, fields: Record<string, unknown>) {
  const guildId = i.channel.guild_id;
  return {
    id: i.id,
    application_id: world.applicationId,
    ...fields,
    ...(guildId
      ? { guild_id: guildId, member: { ...world.memberPayload(i.user, true, guildId), permissions } }
      : { user: i.user }),
    channel_id: i.channel.id,
    channel: world.channelPayload(i.channel),
    token: i.token,
    version: 1,
    app_permissions: "274877975552",
    locale: "en-US",
    ...(guildId && { guild_locale: "en-US" }),
    entitlements: [],
    authorizing_integration_owners: guildId ? { "0": guildId } : { "1": i.user.id },
    context: guildId ? 0 : 1,
    attachment_size_limit: 10_485_760,
  };
}
