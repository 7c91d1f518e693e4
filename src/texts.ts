/**
 * Sentences people read, each written once. A sentence shown in more than
 * one place (a chat reply and the crash-recovery note, the log and the chat
 * page) lives here, so they never drift apart.
 */

/** The end of an answer the bot could not finish because it restarted (shutdown or crash). */
export const RESTART_NOTE = "The bot restarted before finishing this answer. Please ask again.";

/** What to set when no model is configured: logged at start-up, shown in chats and on the page. */
export const NO_MODEL_HELP =
  "No model is configured. Set OPENAI_API_KEY (OpenAI), ANTHROPIC_API_KEY (Anthropic), or " +
  "OPENAI_BASE_URL=http://localhost:11434/v1 with LLM_MODEL for a local Ollama, in .env, and restart.";

/** Discord refused the bot token (gateway close 4004, REST 401). */
export const DISCORD_TOKEN_REJECTED =
  "Discord rejected DISCORD_TOKEN. Copy the bot token again from the developer portal (Bot → Reset Token) into .env.";

/** Slack refused the bot token (auth.test failed). */
export function slackTokenRejected(slackCode: string): string {
  return `Slack rejected SLACK_BOT_TOKEN (auth.test: ${slackCode}). Copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions into .env.`;
}

/** Shown under an answer when the question had images the model cannot see (LLM_VISION=false, or it refused them). */
export const NO_VISION_NOTE = "This model cannot see images, so I answered the text only.";
/**
 * Told (only to them) to someone who pressed Stop on another person's answer.
 * `asker` is how the platform writes that person (a mention: `<@U123>`).
 */
export function stopRefused(asker: string): string {
  return `Only ${asker} (who asked) or an admin can stop this answer.`;
}

/** Told to someone who pressed Stop on an answer that had already ended. */
export const STOP_TOO_LATE = "This answer has already ended.";
