import slackify from "slackify-markdown";

/**
 * Text crossing the Slack boundary: the model's Markdown going out as mrkdwn,
 * and Slack's markup (`<@U123>`, `<#C1|general>`, `<url|label>`, entities)
 * coming in as plain text a model understands.
 */

/** Zero-width space: breaks `@here` so Slack shows it but never notifies anyone. */
const ZWSP = "\u200B";

const SPECIAL_MENTION = /<!(channel|here|everyone)(?:\|[^>]*)?>/gi;
const SUBTEAM_MENTION = /<!subteam\^[^|>]*(?:\|([^>]*))?>/gi;
const PLAIN_GROUP_MENTION = /(?<![\w.])@(channel|here|everyone)\b/gi;

/**
 * Makes group mentions harmless: `<!channel>`, `<!here>`, `<!everyone>`,
 * `<!subteam^ID|@team>` and plain `@here`-style words keep their look but
 * cannot ping a group, whoever wrote them (a model can be talked into it).
 */
export function neutraliseGroupMentions(text: string): string {
  return text
    .replace(SPECIAL_MENTION, (_m, name: string) => `@${name}`)
    .replace(SUBTEAM_MENTION, (_m, label: string | undefined) =>
      label ? `@${label.replace(/^@/, "")}` : "@group",
    )
    .replace(PLAIN_GROUP_MENTION, (_m, name: string) => `@${ZWSP}${name}`);
}

/** Markdown (as models write it) to Slack mrkdwn, safe to post. */
export function toMrkdwn(markdown: string): string {
  if (markdown.trim() === "") return markdown;
  return (
    neutraliseGroupMentions(slackify(markdown))
      // slackify writes "•   item"; one space reads the same and keeps "- item" from growing.
      .replace(/^([ \t]*)• {3}/gm, "$1• ")
      .replace(/\s+$/, "")
  );
}

/** Resolves a user id to the name people see. */
export type UserNamer = (userId: string) => Promise<string>;

const USER_MENTION = /<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g;

/** Removes mentions of the bot itself (`<@Ubot>`, `<@Ubot|name>`) and trims. */
export function stripMention(text: string, botUserId: string): string {
  return text.replace(new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>[ \t]?`, "g"), "").trim();
}

/** Whether the text mentions the bot. */
export function mentions(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/**
 * Slack's markup to readable text: user mentions become `@Name`, channels
 * `#name`, links `[label](url)` or the bare URL, group mentions `@here`,
 * entities decoded.
 */
export async function fromSlackText(text: string, nameOf: UserNamer): Promise<string> {
  const ids = new Set<string>();
  for (const m of text.matchAll(USER_MENTION)) if (!m[2]) ids.add(m[1]!);
  const names = new Map<string, string>();
  await Promise.all([...ids].map(async (id) => names.set(id, await nameOf(id))));
  return text
    .replace(USER_MENTION, (_m, id: string, label: string | undefined) => `@${label ?? names.get(id) ?? id}`)
    .replace(
      /<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g,
      (_m, id: string, name: string | undefined) => `#${name || id}`,
    )
    .replace(/<!subteam\^[^|>]*(?:\|([^>]*))?>/g, (_m, label: string | undefined) => label ?? "@group")
    .replace(
      /<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>/g,
      (_m, name: string, label: string | undefined) => label ?? `@${name}`,
    )
    .replace(
      /<(mailto:|https?:\/\/)([^|>]+)(?:\|([^>]*))?>/g,
      (_m, scheme: string, rest: string, label?: string) => {
        const url = scheme === "mailto:" ? rest : scheme + rest;
        return label && label !== url ? `[${label}](${url})` : url;
      },
    )
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
