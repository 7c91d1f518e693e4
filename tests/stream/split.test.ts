import { describe, expect, it } from "vitest";
import { planSplit, splitMessage } from "../../src/stream/index.js";
import { openFenceAt } from "../../src/stream/markdown.js";
import { prose } from "./fakes.js";

/** The model text each part holds, without the fence lines the split added. */
const bodies = (text: string, maxChars: number) =>
  planSplit(text, maxChars).map((p) => text.slice(p.start, p.end));

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const graphemes = (s: string) =>
  [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s)].length;

function expectWellFormed(text: string, parts: string[], maxChars: number): void {
  expect(bodies(text, maxChars).join("")).toBe(text);
  for (const part of parts) {
    expect(part.length).toBeLessThanOrEqual(maxChars);
    expect(part.length).toBeGreaterThan(0);
    expect(isLow(part.charCodeAt(0))).toBe(false);
    expect(isHigh(part.charCodeAt(part.length - 1))).toBe(false);
  }
}

describe("splitMessage", () => {
  it("returns a text that fits as it is", () => {
    expect(splitMessage("hello", 2_000)).toEqual(["hello"]);
    expect(splitMessage("", 2_000)).toEqual([""]);
    const full = "x".repeat(2_000);
    expect(splitMessage(full, 2_000)).toEqual([full]);
  });

  it.each([2_000, 4_000])("splits prose at %i at paragraph breaks, each part well filled", (maxChars) => {
    const text = prose(maxChars * 3 + 123, 7);
    const parts = splitMessage(text, maxChars);
    expect(parts.length).toBe(4);
    expect(parts.join("")).toBe(text);
    expectWellFormed(text, parts, maxChars);
    for (const part of parts.slice(0, -1)) {
      expect(part.endsWith("\n\n")).toBe(true);
      expect(part.length).toBeGreaterThan(maxChars / 2);
    }
  });

  it("falls back to a line end, then a sentence end, then a space", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} with some words`).join("\n");
    const byLine = splitMessage(lines, 200);
    expect(byLine.join("")).toBe(lines);
    for (const part of byLine.slice(0, -1)) expect(part).toMatch(/words\n$/);

    const sentences = "This is a sentence, with a comma. ".repeat(40);
    const bySentence = splitMessage(sentences, 500);
    expect(bySentence.join("")).toBe(sentences);
    for (const part of bySentence.slice(0, -1)) expect(part).toMatch(/comma\. $/);

    const spaced = "word ".repeat(100);
    const byWord = splitMessage(spaced, 101);
    expect(byWord.join("")).toBe(spaced);
    for (const part of byWord) expect(part).toMatch(/^(word )+$/);
  });

  it("never cuts inside an emoji ZWJ sequence or a surrogate pair", () => {
    const family = "👨‍👩‍👧‍👦"; // 11 UTF-16 code units, one grapheme
    const families = family.repeat(400);
    const parts = splitMessage(families, 2_000);
    expectWellFormed(families, parts, 2_000);
    for (const part of parts) {
      expect(part.length % family.length).toBe(0);
      expect(graphemes(part)).toBe(part.length / family.length);
    }

    for (const offset of ["", "x", "xy"]) {
      const faces = offset + "😀".repeat(2_500);
      const faceParts = splitMessage(faces, 2_000);
      expectWellFormed(faces, faceParts, 2_000);
    }

    const flags = `a${"🇫🇷🇯🇵".repeat(600)}`;
    const flagParts = splitMessage(flags, 2_000);
    expectWellFormed(flags, flagParts, 2_000);
    for (const part of flagParts.slice(1)) expect(part.startsWith("🇫🇷") || part.startsWith("🇯🇵")).toBe(true);
  });

  it("splits Chinese text after a full stop (。) near the limit", () => {
    const sentence = "这是一个测试句子，用来检查消息的分割。"; // 19 chars
    const text = sentence.repeat(300);
    for (const maxChars of [2_000, 4_000]) {
      const parts = splitMessage(text, maxChars);
      expectWellFormed(text, parts, maxChars);
      expect(parts.join("")).toBe(text);
      for (const part of parts.slice(0, -1)) {
        expect(part.endsWith("。")).toBe(true);
        expect(part.length).toBeGreaterThan(maxChars - sentence.length);
      }
    }
  });

  it.each([2_000, 4_000])("closes a code fence at a %i cut and reopens it with its language", (maxChars) => {
    const code = Array.from({ length: 300 }, (_, i) => `  const value${i} = compute(${i});`).join("\n");
    const text = `Here is the code:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const parts = splitMessage(text, maxChars);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expectWellFormed(text, parts, maxChars);
    expect(parts[0]).toMatch(/^Here is the code:\n\n```ts\n/);
    for (const part of parts.slice(0, -1)) expect(part).toMatch(/;\n```$/);
    for (const part of parts.slice(1)) expect(part.startsWith("```ts\n")).toBe(true);
    expect(parts.at(-1)).toMatch(/\n```\n\nThat is all\.$/);
    // Every message renders on its own: no fence left open.
    for (const part of parts) expect(openFenceAt(part)).toBeUndefined();
  });

  it("does not leave an empty code block at the end of a part", () => {
    const text = `${prose(1_950, 3).replace(/\n/g, " ")}\n\n\`\`\`py\n${"print('hi')\n".repeat(40)}\`\`\``;
    const parts = splitMessage(text, 2_000);
    expectWellFormed(text, parts, 2_000);
    expect(parts[0]?.endsWith("\n\n")).toBe(true);
    expect(parts[1]?.startsWith("```py\nprint")).toBe(true);
  });

  it("reopens longer and tilde fences with the same marker", () => {
    const inner = "```js\nlet x = 1;\n```\n".repeat(60);
    const text = `\`\`\`\`md\n${inner}\`\`\`\`\n\n~~~sh\n${"echo hello world\n".repeat(120)}~~~`;
    const parts = splitMessage(text, 1_000);
    expectWellFormed(text, parts, 1_000);
    for (const part of parts) expect(openFenceAt(part)).toBeUndefined();
    expect(parts.filter((p) => p.startsWith("````md\n")).length).toBeGreaterThan(1);
    expect(parts.filter((p) => p.startsWith("~~~sh\n")).length).toBeGreaterThan(1);
  });

  it("holds for mixed random texts at several limits", () => {
    const pieces = [
      () => prose(300, 11),
      () => "\n\n",
      () => "```ts\nconst a = 1;\nconst b = 2;\n```\n",
      () => "👩🏽‍💻 emoji and 😀 faces ",
      () => "中文句子。日本語の文。",
      () => "\n- a list item with `inline code`\n",
      () => "**bold** text ",
    ];
    let seed = 5;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      let text = "";
      const length = 200 + rand(6_000);
      while (text.length < length) text += (pieces[rand(pieces.length)] as () => string)();
      for (const maxChars of [120, 500, 2_000, 4_000]) {
        const parts = splitMessage(text, maxChars);
        expectWellFormed(text, parts, maxChars);
      }
    }
  });
});
