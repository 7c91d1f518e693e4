import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../src/config/index.js";
import { configFiles, problems } from "./helpers/config.js";

const { dir, file } = configFiles("chatbot-config-file-");

const twoModels = `
models:
  - name: fast
    provider: openai
    model: gpt-4o-mini
  - name: strong
    provider: anthropic
    model: claude-sonnet-4-5
    api_key_env: CLAUDE_KEY
  - name: local
    provider: openai
    model: llama3.2
    base_url: http://localhost:11434/v1
default_model: strong
access:
  block_users: [U0BAD]
  allow_roles: [123456789012345678]
  dms: false
admins: [U0ADMIN]
`;

describe("CONFIG_FILE", () => {
  it("lists several models across providers, each with its key from the variable it names", () => {
    const config = loadConfig({
      env: {
        CONFIG_FILE: file("ok.yaml", twoModels),
        OPENAI_API_KEY: "sk-openai-1234",
        CLAUDE_KEY: "sk-ant-5678",
      },
    });
    expect(config.models.map((m) => [m.name, m.provider, m.model, m.apiKey, m.baseUrl])).toEqual([
      ["fast", "openai", "gpt-4o-mini", "sk-openai-1234", undefined],
      ["strong", "anthropic", "claude-sonnet-4-5", "sk-ant-5678", undefined],
      ["local", "openai", "llama3.2", "sk-openai-1234", "http://localhost:11434/v1"],
    ]);
    expect(config.defaultModel).toBe("strong");
    expect(config.access).toMatchObject({
      blockUsers: ["U0BAD"],
      allowRoles: ["123456789012345678"],
      dms: false,
    });
    expect(config.admins).toEqual(["U0ADMIN"]);
  });

  it("reads the same keys as JSON", () => {
    const json = JSON.stringify({ models: [{ name: "a", provider: "openai", model: "m" }], admins: ["U1"] });
    const config = loadConfig({ env: { CONFIG_FILE: file("ok.json", json), OPENAI_API_KEY: "sk-x-123456" } });
    expect(config.models.map((m) => m.name)).toEqual(["a"]);
    expect(config.defaultModel).toBe("a");
  });

  it("without a file, the environment's one model is the one-model case", () => {
    const config = loadConfig({ env: { OPENAI_API_KEY: "sk-x-123456", LLM_MODEL: "gpt-4.1" } });
    expect(config.models.map((m) => [m.name, m.provider, m.model])).toEqual([
      ["gpt-4.1", "openai", "gpt-4.1"],
    ]);
    expect(config.defaultModel).toBe("gpt-4.1");
    expect(loadConfig({ env: {} }).models).toEqual([]);
  });

  it("a bad entry stops start-up naming its path in the file", () => {
    const bad = file(
      "bad.yaml",
      `models:
  - name: fast
    provider: openai
    model: gpt-4o-mini
  - name: broken
    provider: gemini
    model: x
    colour: blue
default_model: nope
`,
    );
    const found = problems({ CONFIG_FILE: bad, OPENAI_API_KEY: "sk-x-123456" });
    expect(found).toContain(`${bad}: models[1].provider: accepts openai or anthropic`);
    expect(found).toContain(`${bad}: models[1]: unknown key colour`);
    expect(
      problems({
        CONFIG_FILE: file(
          "dup.yaml",
          "models:\n  - {name: a, provider: openai, model: m}\n  - {name: a, provider: openai, model: n}\n",
        ),
        OPENAI_API_KEY: "sk-x-123456",
      }),
    ).toEqual([`${join(dir, "dup.yaml")}: models[1].name: "a" is used twice`]);
    expect(
      problems({
        CONFIG_FILE: file(
          "def.yaml",
          "models:\n  - {name: a, provider: openai, model: m}\ndefault_model: b\n",
        ),
        OPENAI_API_KEY: "sk-x-123456",
      }),
    ).toEqual([`${join(dir, "def.yaml")}: default_model: "b" is not one of models (a)`]);
  });

  it("names a missing key variable, an unreadable file and broken YAML", () => {
    const path = file(
      "keys.yaml",
      "models:\n  - {name: c, provider: anthropic, model: m, api_key_env: NOT_SET_ANYWHERE}\n",
    );
    expect(problems({ CONFIG_FILE: path })).toEqual(["models[0].api_key_env: NOT_SET_ANYWHERE is not set"]);
    expect(problems({ CONFIG_FILE: join(dir, "missing.yaml") })).toEqual([
      `CONFIG_FILE=${join(dir, "missing.yaml")}: cannot read it (no such file)`,
    ]);
    expect(problems({ CONFIG_FILE: file("broken.yaml", "models: [\n") })[0]).toMatch(/not valid YAML/);
  });

  it("reads prices per model, daily limits and the currency; a cost limit needs a price", () => {
    const priced = file(
      "priced.yaml",
      `models:
  - {name: a, provider: openai, model: m, price: {input: 0.15, output: 0.6, cached_input: 0.075}}
  - {name: b, provider: openai, model: n}
limits: {user_daily_tokens: 200000, channel_daily_cost: 20}
currency: EUR
`,
    );
    const config = loadConfig({ env: { CONFIG_FILE: priced, OPENAI_API_KEY: "sk-x-123456" } });
    expect(config.models.map((m) => m.price)).toEqual([
      { input: 0.15, output: 0.6, cachedInput: 0.075 },
      undefined,
    ]);
    expect(config.limits).toEqual({ userDailyTokens: 200_000, channelDailyCost: 20 });
    expect(config.currency).toBe("EUR");
    expect(loadConfig({ env: { OPENAI_API_KEY: "sk-x-123456" } })).toMatchObject({
      limits: {},
      currency: "USD",
    });
    const unpriced = file(
      "unpriced.yaml",
      "models:\n  - {name: a, provider: openai, model: m}\nlimits: {user_daily_cost: 1}\n",
    );
    expect(problems({ CONFIG_FILE: unpriced, OPENAI_API_KEY: "sk-x-123456" })).toEqual([
      `${unpriced}: limits.user_daily_cost: a cost limit needs price: on the models it should count`,
    ]);
    const bad = file(
      "badlimits.yaml",
      "models:\n  - {name: a, provider: openai, model: m, price: {input: -1, output: 1}}\nlimits: {user_daily_tokens: 1.5, weekly: 3}\ncurrency: dollars\n",
    );
    expect(problems({ CONFIG_FILE: bad, OPENAI_API_KEY: "sk-x-123456" })).toEqual([
      `${bad}: models[0].price.input: accepts a price of 0 or more, per million tokens`,
      `${bad}: limits.user_daily_tokens: accepts a whole number of tokens`,
      `${bad}: limits: unknown key weekly`,
      `${bad}: currency: accepts a three-letter currency code, like USD or EUR`,
    ]);
  });

  it("config.example.yaml is valid and documents every key the file accepts", () => {
    const example = new URL("../config.example.yaml", import.meta.url).pathname;
    const config = loadConfig({
      env: { CONFIG_FILE: example, OPENAI_API_KEY: "sk-x-123456", ANTHROPIC_API_KEY: "sk-ant-123456" },
    });
    expect(config.models.length).toBeGreaterThan(1);
    const text = readFileSync(example, "utf8");
    const source = readFileSync(new URL("../src/config/file.ts", import.meta.url), "utf8");
    const keys = [...source.matchAll(/^\s{2,4}([a-z_]+): (?:z\.|ids|access)/gm)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys)
      expect(text, `config.example.yaml documents ${key}`).toMatch(new RegExp(`\\b${key}:`));
    expect(parse(text)).toBeTypeOf("object");
  });
});
