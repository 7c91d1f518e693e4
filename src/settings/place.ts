/**
 * Where a message was written, as settings, access and usage see it: the
 * platform, its workspace (Slack team, Discord guild; "dm" for Discord DMs,
 * "web" for the web) and the channel. A thread is in its channel: it inherits
 * the channel's settings.
 */
export interface Place {
  platform: string;
  workspace: string;
  /** Absent: the workspace itself (the web has no channels). */
  channel?: string;
  /** A direct message with the bot. */
  isDm?: boolean;
}

/** Who wrote to the bot or pressed one of its commands, as their platform knows them. */
export interface Actor {
  id: string;
  name: string;
  /** Discord role ids (for `access.allow_roles`). */
  roles?: string[];
  /**
   * The platform's own rule makes them an admin for what they are doing
   * (settings: Slack workspace admin or owner, Discord Manage Server).
   */
  isPlatformAdmin?: boolean;
}

/** The two scopes a setting can be set at. */
export type Scope = "workspace" | "channel";

/** How a place's scope is named in the store: `settings:slack:T1` and `settings:slack:T1:C1`. */
export function scopeKey(place: Place, scope: Scope): string {
  const workspace = `settings:${place.platform}:${place.workspace}`;
  return scope === "workspace" || !place.channel ? workspace : `${workspace}:${place.channel}`;
}
