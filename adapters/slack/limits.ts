/**
 * Slack's rate-limit tiers for the native streaming methods and the Stop
 * control, which the bot's budgets mirror as sliding windows per workspace
 * (so many calls in any minute). Tier 2 is about 20 calls a minute, Tier 3
 * about 50, Tier 4 about 100.
 * @see https://docs.slack.dev/apis/web-api/rate-limits
 */

/** chat.startStream: Tier 2. @see https://docs.slack.dev/reference/methods/chat.startStream */
export const STREAM_STARTS_PER_MINUTE = 20;
/** chat.appendStream: Tier 4 ("100+ per minute"). @see https://docs.slack.dev/reference/methods/chat.appendStream */
export const STREAM_APPENDS_PER_MINUTE = 100;
/** chat.stopStream: Tier 2. @see https://docs.slack.dev/reference/methods/chat.stopStream */
export const STREAM_STOPS_PER_MINUTE = 20;
/** chat.delete (removes a native stream's Stop control): Tier 3. @see https://docs.slack.dev/reference/methods/chat.delete */
export const DELETES_PER_MINUTE = 50;
