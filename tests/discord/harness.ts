import { type DiscordAdapter, startDiscord } from "../../adapters/discord/index.js";
import type { Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { InflightMessages } from "../../src/memory/inflight.js";
import { FakeDiscord, type FakeDiscordOptions } from "../fakes/discord.js";
import { makeTestBot, type TestBot, type TestBotOptions } from "../helpers/bot.js";

export const CURSOR = "▌";

/** One log line as pino wrote it. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Harness extends TestBot {
  discord: FakeDiscord;
  adapter: DiscordAdapter;
  /** Set with the `inflight` option. */
  inflight: InflightMessages | undefined;
  logs: LogLine[];
  config: Config["discord"];
  close(): Promise<void>;
}

export function discordConfig(
  discord: FakeDiscord,
  overrides: Partial<Config["discord"]> = {},
): Config["discord"] {
  return {
    token: discord.token,
    guildId: undefined,
    apiUrl: discord.apiUrl,
    requireMention: false,
    editsPer5s: 5,
    ...overrides,
  };
}

export function collectingLogger(logs: LogLine[]) {
  return createLogger({
    level: "debug",
    pretty: false,
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
}

/**
 * The real adapter on real discord.js, against a FakeDiscord and a real Bot
 * (FakeOpenAI + SQLite).
 */
export async function startHarness(
  options: {
    discord?: FakeDiscordOptions;
    config?: Partial<Config["discord"]>;
    bot?: TestBotOptions;
    /** Remember streamed messages in the bot's store (InflightMessages), beating every `heartbeatMs`. */
    inflight?: { heartbeatMs: number };
  } = {},
): Promise<Harness> {
  const discord = await FakeDiscord.start(options.discord);
  const testBot = await makeTestBot(options.bot);
  const inflight = options.inflight
    ? new InflightMessages(testBot.store.state, testBot.store.atomic, {
        cursor: CURSOR,
        heartbeatMs: options.inflight.heartbeatMs,
      })
    : undefined;
  await inflight?.start();
  const logs: LogLine[] = [];
  const config = discordConfig(discord, options.config);
  const adapter = await startDiscord({
    bot: testBot.bot,
    config,
    cursor: CURSOR,
    log: collectingLogger(logs),
    ...(inflight ? { inflight } : {}),
  });
  return {
    ...testBot,
    discord,
    adapter,
    inflight,
    logs,
    config,
    close: async () => {
      await adapter.stop({ graceMs: 0 });
      await testBot.close();
      await discord.close();
    },
  };
}

/** The messages (role, content) the model received in its last request. */
export function lastModelMessages(h: Harness): Array<{ role: string; content: string }> {
  return h.fake.lastBody?.messages ?? [];
}
