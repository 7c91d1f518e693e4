import type { Access, Actor, Place, PlaceSettings } from "../settings/index.js";
import type { UsageMeter } from "./meter.js";
import { TOP_FOR_ADMINS, topText, usageText } from "./texts.js";

/**
 * The one /usage command set: Slack's `/usage [top]` and Discord's
 * `/usage top:True` both map onto it and show the text runUsageCommand returns.
 */
export type UsageCommand = { kind: "mine" } | { kind: "top" } | { kind: "help"; problem?: string };

const HELP = [
  "/usage: your use of the bot today and this month, this channel's, and the daily limits that apply here.",
  "/usage top: the busiest users and channels of this workspace (admins).",
].join("\n");

/** Slack's form: the text after `/usage`. */
export function parseUsageCommand(text: string): UsageCommand {
  const word = text.trim().toLowerCase();
  if (word === "" || word === "me" || word === "mine") return { kind: "mine" };
  if (word === "top") return { kind: "top" };
  if (word === "help") return { kind: "help" };
  return { kind: "help", problem: `/usage has no "${text.trim()}".` };
}

/**
 * Answers /usage for `actor` in `place` (shown only to them). Anyone sees
 * their own use and the channel's; only those `access.mayConfigure` allows
 * see the top users and channels.
 */
export async function runUsageCommand(
  command: UsageCommand,
  place: Place,
  actor: Actor,
  deps: { usage: UsageMeter; settings: PlaceSettings; access: Access },
): Promise<string> {
  const { usage } = deps;
  if (command.kind === "help") return command.problem ? `${command.problem}\n\n${HELP}` : HELP;
  if (command.kind === "top") {
    if (!deps.access.mayConfigure(actor)) return TOP_FOR_ADMINS;
    const { today, month } = await usage.top(place);
    return topText(today, month, usage.currency, usage.priced);
  }
  const [summary, resolved] = await Promise.all([
    usage.summary(place, actor.id),
    deps.settings.resolve(place),
  ]);
  return usageText({
    place,
    summary,
    limits: resolved.limits,
    exempt: usage.isExempt(actor.id),
    untilResetMs: usage.untilReset(),
    currency: usage.currency,
    priced: usage.priced,
  });
}
