import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";

describe("loadConfig", () => {
  it("starts with nothing set: web on 127.0.0.1:3000, SQLite, no model", () => {
    const c = loadConfig({ env: {} });
    expect(c.llm.provider).toBeNull();
    expect(c.store.url).toBe("sqlite://./data/chatbot.sqlite");
    expect(c.web).toMatchObject({ enabled: true, port: 3000, host: "127.0.0.1", maxMessageChars: 10_000 });
    expect(c.cursor).toBe("▌");
    expect(c.slack.editsPerMinute).toBe(50);
    expect(c.discord.editsPer5s).toBe(5);
  });

  it("infers the provider from the key that is set", () => {
    expect(loadConfig({ env: { OPENAI_API_KEY: "sk-x" } }).llm).toMatchObject({
      provider: "openai",
      model: "gpt-4o-mini",
    });
    expect(loadConfig({ env: { ANTHROPIC_API_KEY: "a" } }).llm.provider).toBe("anthropic");
    expect(
      loadConfig({ env: { OPENAI_BASE_URL: "http://localhost:11434/v1", LLM_MODEL: "llama3.2" } }).llm,
    ).toMatchObject({
      provider: "openai",
      model: "llama3.2",
      openaiApiKey: undefined,
    });
    expect(
      loadConfig({ env: { ANTHROPIC_API_KEY: "a", OPENAI_API_KEY: "b", LLM_PROVIDER: "Anthropic" } }).llm
        .provider,
    ).toBe("anthropic");
  });

  it("a bad value stops start-up naming the variable and what it accepts", () => {
    const bad = () =>
      loadConfig({
        env: { LLM_TEMPERATURE: "hot", PORT: "99999", LLM_PROVIDER: "gemini", STORE_URL: "mysql://x" },
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/LLM_TEMPERATURE="hot" accepts a number from 0 to 2/);
      expect(msg).toMatch(/PORT="99999" accepts a whole number from 0 to 65535/);
      expect(msg).toMatch(/LLM_PROVIDER="gemini" accepts openai or anthropic/);
      expect(msg).toMatch(/STORE_URL="mysql:\/\/x" accepts a URL starting with sqlite:\/\//);
    }
  });

  it("reads the attachment limits and whether the model sees images", () => {
    const defaults = loadConfig({ env: {} });
    expect(defaults.llm.vision).toBe(true);
    expect(defaults.attachments).toEqual({
      maxFileBytes: 20 * 1024 * 1024,
      maxFiles: 5,
      maxImages: 4,
      maxDocumentChars: 50_000,
      webMaxUploadBytes: 20 * 1024 * 1024,
    });
    expect(defaults.store).toMatchObject({ maxAttachments: 10, maxAttachmentBytes: 20 * 1024 * 1024 });
    const set = loadConfig({
      env: {
        LLM_VISION: "false",
        ATTACHMENT_MAX_FILE_MB: "5",
        WEB_MAX_UPLOAD_MB: "0",
        MEMORY_MAX_ATTACHMENTS: "2",
      },
    });
    expect(set.llm.vision).toBe(false);
    expect(set.attachments.maxFileBytes).toBe(5 * 1024 * 1024);
    expect(set.attachments.webMaxUploadBytes).toBe(0);
    expect(set.store.maxAttachments).toBe(2);
    expect(() => loadConfig({ env: { ATTACHMENT_MAX_FILE_MB: "0" } })).toThrow(/ATTACHMENT_MAX_FILE_MB/);
  });

  it("Slack needs a way to receive events", () => {
    expect(() => loadConfig({ env: { SLACK_BOT_TOKEN: "xoxb-1" } })).toThrow(
      /SLACK_APP_TOKEN.*SLACK_SIGNING_SECRET/,
    );
  });

  it("binds to all interfaces only when an API key protects the web API", () => {
    expect(loadConfig({ env: { WEB_API_KEY: "k" } }).web.host).toBe("0.0.0.0");
    expect(loadConfig({ env: { WEB_API_KEY: "k", HOST: "10.1.2.3" } }).web.host).toBe("10.1.2.3");
  });

  it("reads a .env file; real environment variables win", () => {
    const dir = mkdtempSync(join(tmpdir(), "chatbot-env-"));
    const file = join(dir, ".env");
    writeFileSync(file, "LLM_MODEL=from-file\nPORT=4000\nOPENAI_API_KEY=sk-file\n");
    const c = loadConfig({ env: { PORT: "5000" }, dotenvPath: file });
    expect(c.llm.model).toBe("from-file");
    expect(c.web.port).toBe(5000);
  });

  it(".env.example lists every variable the schema reads", async () => {
    const { readFileSync } = await import("node:fs");
    const example = readFileSync(new URL("../.env.example", import.meta.url), "utf8");
    const source = readFileSync(new URL("../src/config/index.ts", import.meta.url), "utf8");
    const names = [...source.matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) expect(example, name).toMatch(new RegExp(`^#?\\s?${name}=`, "m"));
  });
});
