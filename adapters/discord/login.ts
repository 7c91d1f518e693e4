import { once } from "node:events";
import { type Client, type CloseEvent, DiscordjsError, DiscordjsErrorCodes, Events } from "discord.js";
import { StartError } from "../../src/errors.js";
import type { Logger } from "../../src/log.js";
import { DISCORD_TOKEN_REJECTED } from "../../src/texts.js";

/** @see https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes */
const GATEWAY_DISALLOWED_INTENTS = 4014;
const GATEWAY_AUTH_FAILED = 4004;

/** Logs in and waits until the guilds are loaded; explains the failures a person can fix. */
export async function login(client: Client, token: string, log: Logger): Promise<void> {
  let closeCode: number | undefined;
  const onClose = (event: CloseEvent) => {
    closeCode = event.code;
  };
  client.on(Events.ShardDisconnect, onClose);
  const cancel = new AbortController();
  const ready = once(client, Events.ClientReady, { signal: cancel.signal });
  ready.catch(() => {});
  try {
    await client.login(token);
    await ready;
  } catch (err) {
    const explained = explainLoginFailure(err, closeCode, token);
    log.error(explained.message);
    throw explained;
  } finally {
    cancel.abort();
    client.off(Events.ShardDisconnect, onClose);
  }
}

function explainLoginFailure(err: unknown, closeCode: number | undefined, token: string): Error {
  if (
    closeCode === GATEWAY_DISALLOWED_INTENTS ||
    (err instanceof Error && /disallowed intents/i.test(err.message))
  ) {
    const id = applicationIdFromToken(token);
    const where = id
      ? `https://discord.com/developers/applications/${id}/bot`
      : "https://discord.com/developers/applications";
    return new StartError(
      "discord_disallowed_intents",
      `Discord refused the bot because the Message Content intent is not enabled. Open ${where}, turn on "Message Content Intent" under Privileged Gateway Intents, save, and restart. Without it the bot cannot read messages.`,
      { cause: err },
    );
  }
  const badToken =
    closeCode === GATEWAY_AUTH_FAILED ||
    (err instanceof DiscordjsError && err.code === DiscordjsErrorCodes.TokenInvalid) ||
    (err instanceof Error && /authentication failed/i.test(err.message));
  if (badToken) {
    return new StartError("discord_bad_token", DISCORD_TOKEN_REJECTED, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A bot token starts with the base64 of the bot's user id, which is also its application id. */
function applicationIdFromToken(token: string): string | undefined {
  const first = token.split(".")[0] ?? "";
  const decoded = Buffer.from(first, "base64").toString("utf8");
  return /^\d{17,20}$/.test(decoded) ? decoded : undefined;
}
