import type { AccessConfig } from "../config/index.js";
import type { Actor, Place } from "./place.js";

/** Why someone may not use the bot here; `message` is the one line they read. */
export interface Refusal {
  reason: "blocked_user" | "not_allowed_user" | "blocked_channel" | "not_allowed_channel" | "no_dms";
  message: string;
}

const MESSAGES: Record<Refusal["reason"], string> = {
  blocked_user: "Sorry, the people running this bot have not given you access to it.",
  not_allowed_user: "Sorry, this bot is only open to some people here, and you are not on its list.",
  blocked_channel: "Sorry, this bot does not answer in this channel.",
  not_allowed_channel: "Sorry, this bot only answers in some channels, and this is not one of them.",
  no_dms: "Sorry, this bot does not answer direct messages. Mention it in a channel instead.",
};

/** How long a refused person is not told again (ms): once a day, not on every message. */
const TELL_AGAIN_MS = 24 * 3600 * 1000;
const REMEMBERED = 10_000;

/**
 * Who may use the bot, from the operator's `access:` and `admins:` lists.
 * Block lists win over allow lists; an empty allow list allows everyone;
 * operator admins are always allowed. Nothing here touches the store: a
 * refused message leaves no trace but one explanation a day (kept in this
 * process only).
 */
export class Access {
  private readonly allowUsers: Set<string>;
  private readonly blockUsers: Set<string>;
  private readonly allowChannels: Set<string>;
  private readonly blockChannels: Set<string>;
  private readonly allowRoles: Set<string>;
  private readonly admins: Set<string>;
  private readonly told = new Map<string, number>();

  constructor(
    private readonly config: AccessConfig,
    admins: string[],
    private readonly now: () => number = Date.now,
  ) {
    this.allowUsers = new Set(config.allowUsers);
    this.blockUsers = new Set(config.blockUsers);
    this.allowChannels = new Set(config.allowChannels);
    this.blockChannels = new Set(config.blockChannels);
    this.allowRoles = new Set(config.allowRoles);
    this.admins = new Set(admins);
  }

  /** The operator listed them in `admins:`. */
  isOperatorAdmin(userId: string): boolean {
    return this.admins.has(userId);
  }

  /** They may change settings: an operator admin, or an admin by their platform's rule. */
  mayConfigure(actor: Actor): boolean {
    return this.isOperatorAdmin(actor.id) || actor.isPlatformAdmin === true;
  }

  /** Undefined when `actor` may use the bot in `place`; else why not. */
  check(place: Place, actor: Actor): Refusal | undefined {
    if (this.isOperatorAdmin(actor.id)) return undefined;
    const refuse = (reason: Refusal["reason"]): Refusal => ({ reason, message: MESSAGES[reason] });
    if (this.blockUsers.has(actor.id)) return refuse("blocked_user");
    const listed = this.allowUsers.size === 0 && this.allowRoles.size === 0;
    const byRole = (actor.roles ?? []).some((r) => this.allowRoles.has(r));
    if (!listed && !this.allowUsers.has(actor.id) && !byRole) return refuse("not_allowed_user");
    if (place.isDm) return this.config.dms ? undefined : refuse("no_dms");
    const channel = place.channel ?? "";
    if (this.blockChannels.has(channel)) return refuse("blocked_channel");
    if (this.allowChannels.size > 0 && !this.allowChannels.has(channel)) return refuse("not_allowed_channel");
    return undefined;
  }

  /** Whether to tell `actor` about a refusal now: once a day per person and reason. */
  shouldTell(actor: Actor, refusal: Refusal): boolean {
    const key = `${actor.id}:${refusal.reason}`;
    const now = this.now();
    const last = this.told.get(key);
    if (last !== undefined && now - last < TELL_AGAIN_MS) return false;
    if (this.told.size >= REMEMBERED) this.told.delete(this.told.keys().next().value as string);
    this.told.set(key, now);
    return true;
  }
}
