import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

/** Field paths whose values are never written (any depth up to two levels). */
const REDACT_KEYS = [
  "apiKey",
  "api_key",
  "token",
  "botToken",
  "appToken",
  "signingSecret",
  "password",
  "secret",
  "authorization",
  "Authorization",
  "x-api-key",
  "cookie",
];
const REDACT_PATHS = [
  ...REDACT_KEYS,
  ...REDACT_KEYS.map((k) => `*.${k}`),
  ...REDACT_KEYS.map((k) => `*.*.${k}`),
  'headers["authorization"]',
  'headers["x-api-key"]',
  '*.headers["authorization"]',
  '*.headers["x-api-key"]',
];

/**
 * Token shapes that are secrets wherever they appear in a line, e.g. inside an
 * SDK's error message: OpenAI/Anthropic keys, Slack tokens, Bearer headers.
 */
const SECRET_PATTERNS = [
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bxox[abprse]-[A-Za-z0-9-]{8,}/g,
  /\bxapp-[A-Za-z0-9-]{8,}/g,
  /\b[MN][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}/g,
  /(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{8,}/g,
];

export interface LogOptions {
  level?: string;
  /** Exact secret values (API keys, tokens) to scrub from every line. */
  secrets?: Array<string | undefined>;
  /** Pretty, coloured lines for a person; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

/** Replaces secrets in one serialized log line. */
export function scrubSecrets(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join("[redacted]");
  for (const p of SECRET_PATTERNS)
    out = out.replace(p, (m) =>
      /^(Bearer|Bot)\s/.test(m) ? `${m.split(/\s/)[0]} [redacted]` : "[redacted]",
    );
  return out;
}

export function createLogger(options: LogOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length > 0);
  const usePretty = options.pretty ?? (process.stdout.isTTY === true && !options.destination);
  const destination =
    options.destination ??
    (usePretty ? pretty({ colorize: true, translateTime: "HH:MM:ss", ignore: "pid,hostname" }) : undefined);
  return pino(
    {
      level: options.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      hooks: { streamWrite: (s) => scrubSecrets(s, secrets) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that writes nothing; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
