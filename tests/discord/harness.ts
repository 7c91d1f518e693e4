import { type DiscordOptions, type DiscordSurface, startDiscord } from "../../adapters/discord/index.js";
import type { Config } from "../../src/config/index.js";
import { createLogger } from "../../src/log.js";
import { CrashRecovery } from "../../src/replicas/index.js";
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
  adapter: DiscordSurface;
  /** Set with the `recovery` option. */
  recovery: CrashRecovery | undefined;
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
    /** How the test bot is made; a function gets the fake first (its users' ids for access lists). */
    bot?: TestBotOptions | ((discord: FakeDiscord) => TestBotOptions);
    /** Remember streamed messages in the bot's store (CrashRecovery), beating every `heartbeatMs`. */
    recovery?: { heartbeatMs: number };
    /** More options of the adapter. */
    adapter?: Pick<DiscordOptions, "typingRenewMs">;
    /** Shapes the fake's world before the bot connects (more guilds, ...). */
    setup?: (discord: FakeDiscord) => void;
  } = {},
): Promise<Harness> {
  const discord = await FakeDiscord.start(options.discord);
  options.setup?.(discord);
  const logs: LogLine[] = [];
  const botOptions = typeof options.bot === "function" ? options.bot(discord) : options.bot;
  const testBot = await makeTestBot({ ...botOptions, log: collectingLogger(logs) });
  const recovery = options.recovery
    ? new CrashRecovery(testBot.store.state, testBot.store.coordination.atomic, {
        heartbeatMs: options.recovery.heartbeatMs,
        sweepEveryMs: 0,
      })
    : undefined;
  await recovery?.start();
  const config = discordConfig(discord, options.config);
  const adapter = await startDiscord({
    bot: testBot.bot,
    turns: testBot.turns,
    settings: testBot.settings,
    access: testBot.access,
    usage: testBot.usage,
    config,
    cursor: CURSOR,
    log: collectingLogger(logs),
    ...(recovery ? { recovery } : {}),
    ...options.adapter,
  });
  return {
    ...testBot,
    discord,
    adapter,
    recovery,
    logs,
    config,
    close: async () => {
      await adapter.stop(0);
      await testBot.close();
      await discord.close();
    },
  };
}

/** The messages (role, content) the model received in its last request. */
export function lastModelMessages(h: Harness): Array<{ role: string; content: string }> {
  return h.fake.lastBody?.messages ?? [];
}
