import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import { describe, expect, it } from "vitest";
import { type FitMessage, fitToBudget, imageTokens, truncateToTokens } from "../../src/memory/fit.js";
import { countOpenAITokens, estimateAnthropicTokens } from "../../src/memory/tokens.js";

const count = countOpenAITokens;

describe("fitToBudget", () => {
  const history = Array.from({ length: 20 }, (_, i) => ({
    role: (i % 2 === 0 ? "user" : "assistant") as "user" | "assistant",
    content: `message number ${i} with a few words in it`,
  }));

  it("keeps everything when it fits", () => {
    const out = fitToBudget("sys", history, 10_000, count);
    expect(out).toHaveLength(21);
    expect(out[0]).toEqual({ role: "system", content: "sys" });
  });

  it("keeps the system prompt and the newest messages within the budget, starting with a user turn", () => {
    const out = fitToBudget("You are terse.", history, 80, count);
    expect(out[0]!.content).toBe("You are terse.");
    expect(out.at(-1)!.content).toBe("message number 19 with a few words in it");
    expect(out[1]!.role).toBe("user");
    const used = out.reduce((n, m) => n + count(m.content) + 4, 0);
    expect(used).toBeLessThanOrEqual(80);
    expect(out.length).toBeLessThan(21);
  });

  it("truncates a single message larger than the budget instead of sending it to fail", () => {
    const huge = "word ".repeat(5_000);
    const out = fitToBudget("sys", [{ role: "user", content: huge }], 300, count);
    expect(out).toHaveLength(2);
    expect(out[1]!.content).toMatch(/truncated to fit/);
    expect(count(out[1]!.content)).toBeLessThanOrEqual(300);
  });

  it("truncateToTokens leaves short text alone", () => {
    expect(truncateToTokens("short", 100, count)).toBe("short");
  });
});

describe("fitting images", () => {
  const withImage = (text: string, name: string): FitMessage => ({
    role: "user",
    content: [
      { type: "text", text },
      { type: "image", width: 1568, height: 1176, name },
    ],
  });
  const cost = imageTokens(1568, 1176);

  it("counts an image by its size, on the high side of both providers", () => {
    // Anthropic: about w × h / 750; OpenAI high detail: 85 + 170 per 512 px tile after scaling.
    expect(cost).toBe(Math.ceil((1568 * 1176) / 750));
    // 512 × 512: Anthropic ceil(262144 / 750) = 350 beats OpenAI's one tile (85 + 170 = 255).
    expect(imageTokens(512, 512)).toBe(350);
    // A long thin strip is where OpenAI's tiles cost more: 2048 × 128 is 4 tiles (765) against 350.
    expect(imageTokens(2048, 128)).toBe(Math.max(Math.ceil((2048 * 128) / 750), 85 + 170 * 4));
  });

  it("resends an earlier image while it fits, and sends it as a line once it does not", () => {
    const history: FitMessage[] = [
      withImage("what is this?", "shot.png"),
      { role: "assistant", content: "A chart." },
      { role: "user", content: "and the second line?" },
    ];
    const roomy = fitToBudget("sys", history, cost + 200, count);
    expect(roomy[1]).toEqual(history[0]);
    const tight = fitToBudget("sys", history, cost - 10, count);
    expect(tight).toHaveLength(4);
    expect(tight[1]!.content).toEqual([
      { type: "text", text: "what is this?" },
      { type: "text", text: "[image shot.png not sent again: the conversation is too long]" },
    ]);
  });

  it("keeps the new question's text when even its image does not fit", () => {
    const out = fitToBudget("sys", [withImage("describe it", "big.png")], 100, count);
    expect(out[1]!.content).toEqual([
      { type: "text", text: "describe it" },
      { type: "text", text: "[image big.png not sent again: the conversation is too long]" },
    ]);
  });
});

describe("token counting", () => {
  it("uses OpenAI's real tokenizer", () => {
    expect(countOpenAITokens("hello world")).toBe(2);
  });
  it("estimates Anthropic tokens on the high side for ASCII and counts each CJK character", () => {
    expect(estimateAnthropicTokens("a".repeat(300))).toBe(100);
    expect(estimateAnthropicTokens("日本語")).toBe(3);
  });
});

describe("token counting of hostile input", () => {
  it("counts a long run without spaces in bounded work, over-counting by at most a token per 64 characters", () => {
    // Exact BPE of one 8,000-character pre-token is quadratic (seconds); the pieces bound it.
    const run = "x".repeat(8_000);
    const n = countOpenAITokens(run);
    expect(n).toBeGreaterThanOrEqual(1_000);
    expect(n).toBeLessThanOrEqual(1_000 + 8_000 / 64);
    // Text with ordinary words is counted exactly as the tokenizer does.
    const prose = "hello world, this is ordinary text. ".repeat(50);
    expect(countOpenAITokens(prose)).toBe(new Tiktoken(o200k).encode(prose).length);
  });

  it("truncating a huge blob to the budget stays cheap", () => {
    const blob = "a".repeat(64_000);
    const out = truncateToTokens(blob, 500, countOpenAITokens);
    expect(countOpenAITokens(out)).toBeLessThanOrEqual(500);
  });
});
