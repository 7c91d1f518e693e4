import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { issuesOf, mcpServers } from "./mcp.js";

/**
 * The operator config file (CONFIG_FILE): YAML or JSON, in the shape
 * llmcord's users know. Validated as strictly as the environment: an unknown
 * key or a bad value stops start-up with its path in the file
 * (`models[1].provider: ...`). Secrets stay out of it: a model names the
 * environment variable that holds its key (`api_key_env`). Every key is
 * documented in config.example.yaml.
 */

const id = z.string().trim().min(1, "accepts a non-empty id");
const ids = z
  .array(
    z.union([id, z.number().int().transform(String)], {
      error: "accepts ids as the platforms write them (in JSON, write Discord's long ids in quotes)",
    }),
  )
  .default([]);

const modelEntry = z.strictObject({
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "accepts letters, digits, '.', '_' and '-' (at most 64)"),
  provider: z.enum(["openai", "anthropic"], { error: "accepts openai or anthropic" }),
  model: z.string().trim().min(1, "accepts the provider's model name"),
  base_url: z.url({ protocol: /^https?$/, error: "accepts an http:// or https:// URL" }).optional(),
  api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "accepts the name of an environment variable, like OPENAI_API_KEY")
    .optional(),
  context_tokens: z.number().int().min(256).max(10_000_000).optional(),
  max_output_tokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  vision: z.boolean({ error: "accepts true or false" }).optional(),
  price: z
    .strictObject({
      input: z.number().min(0, "accepts a price of 0 or more, per million tokens"),
      output: z.number().min(0, "accepts a price of 0 or more, per million tokens"),
      cached_input: z.number().min(0, "accepts a price of 0 or more, per million tokens").optional(),
    })
    .optional(),
});

const tokens = z.number().int("accepts a whole number of tokens").min(1).max(1e12).optional();
const money = z.number().positive("accepts an amount above 0, in the currency of the prices").optional();

const access = z.strictObject({
  allow_users: ids,
  block_users: ids,
  allow_channels: ids,
  block_channels: ids,
  allow_roles: ids,
  dms: z.boolean().default(true),
});

const file = z.strictObject({
  default_model: z.string().trim().min(1).optional(),
  models: z.array(modelEntry).default([]),
  access: access.default({
    allow_users: [],
    block_users: [],
    allow_channels: [],
    block_channels: [],
    allow_roles: [],
    dms: true,
  }),
  admins: ids,
  // `limits:` with every key commented out reads as null: no limits.
  limits: z.preprocess(
    (v) => v ?? {},
    z.strictObject({
      user_daily_tokens: tokens,
      channel_daily_tokens: tokens,
      user_daily_cost: money,
      channel_daily_cost: money,
    }),
  ),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "accepts a three-letter currency code, like USD or EUR")
    .default("USD"),
  // The key Claude Desktop's file uses (camelCase, unlike the rest), so an entry can be pasted as it is.
  mcpServers,
});

export type ConfigFile = z.infer<typeof file>;
export type ModelFileEntry = z.infer<typeof modelEntry>;

/**
 * YAML integers as numbers, except those too large for one (Discord's ids,
 * written unquoted): those stay exact, as their digits.
 */
function exactIntegers(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(exactIntegers);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exactIntegers(v)]));
  return value;
}

/** Reads and validates the file; the problems name the file and the path of each bad entry. */
export function readConfigFile(path: string): { file?: ConfigFile; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(err);
    return { problems: [`CONFIG_FILE=${path}: cannot read it (${reason})`] };
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : exactIntegers(parseYaml(text, { intAsBigInt: true }));
  } catch (err) {
    return {
      problems: [
        `CONFIG_FILE=${path}: not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"} (${(err as Error).message.split("\n")[0]})`,
      ],
    };
  }
  const result = file.safeParse(raw ?? {});
  if (!result.success) return { problems: issuesOf(path, result.error.issues) };
  const parsed = result.data;
  const problems: string[] = [];
  const names = new Set<string>();
  parsed.models.forEach((m, i) => {
    if (names.has(m.name)) problems.push(`${path}: models[${i}].name: "${m.name}" is used twice`);
    names.add(m.name);
  });
  const priced = parsed.models.some((m) => m.price);
  for (const key of ["user_daily_cost", "channel_daily_cost"] as const) {
    if (parsed.limits[key] !== undefined && !priced)
      problems.push(`${path}: limits.${key}: a cost limit needs price: on the models it should count`);
  }
  if (parsed.default_model !== undefined && !names.has(parsed.default_model)) {
    problems.push(
      `${path}: default_model: "${parsed.default_model}" is not one of models (${[...names].join(", ") || "none"})`,
    );
  }
  return problems.length > 0 ? { problems } : { file: parsed, problems };
}
