import { describe, expect, it } from "vitest";
import { fromSlackText, mentions, stripMention, toMrkdwn } from "../../adapters/slack/format.js";
import { GROUP_PING } from "./harness.js";

describe("Slack formatting: Markdown out as mrkdwn", () => {
  it("renders bold, italics, strike, code, links, lists and headings the way Slack shows them", () => {
    const out = toMrkdwn(
      [
        "# Plan",
        "",
        "**bold** and _italic_ and ~~gone~~ and `x = 1`",
        "",
        "See [the docs](https://example.com/docs).",
        "",
        "- one",
        "- two",
        "",
        "```ts",
        "const a = 1;",
        "```",
      ].join("\n"),
    );
    const plain = out.replace(/\u200B/g, "");
    expect(plain).toContain("*Plan*");
    expect(plain).toContain("*bold*");
    expect(plain).not.toContain("**");
    expect(plain).toContain("_italic_");
    expect(plain).toContain("~gone~");
    expect(plain).toContain("`x = 1`");
    expect(plain).toContain("<https://example.com/docs|the docs>");
    expect(plain).toMatch(/•\s+one\n•\s+two/);
    expect(plain).toContain("```\nconst a = 1;\n```");
    expect(out.endsWith("\n")).toBe(false);
  });

  it("escapes what Slack would read as markup and keeps the cursor", () => {
    expect(toMrkdwn("a < b & c > d ▌")).toBe("a &lt; b &amp; c &gt; d ▌");
  });

  it("never lets a group mention through", () => {
    const out = toMrkdwn(
      "Hey <!channel> and <!here|here>, <!everyone>, <!subteam^S0DEVS|@devs>, <!subteam^S0X>, and plain @here @channel @everyone; mail me@here.com",
    );
    expect(out).not.toMatch(GROUP_PING);
    expect(out.replace(/\u200B/g, "")).toContain("Hey @channel and @here, @everyone, @devs, @group");
    expect(out).toContain("me@here.com");
  });
});

describe("Slack formatting: Slack markup in", () => {
  const names: Record<string, string> = { U0BOB: "Bob" };
  const nameOf = async (id: string) => names[id] ?? id;

  it("turns mentions, channels, links and entities into plain text", async () => {
    const text = await fromSlackText(
      "ask <@U0BOB> or <@U0EVE|eve> in <#C0GEN|general>: <https://a.example/x|the page>, <https://b.example> &lt;3 &amp; <!here>",
      nameOf,
    );
    expect(text).toBe(
      "ask @Bob or @eve in #general: [the page](https://a.example/x), https://b.example <3 & @here",
    );
  });

  it("strips only the bot's own mention", () => {
    expect(stripMention("<@U0BOT> hello <@U0BOB>", "U0BOT")).toBe("hello <@U0BOB>");
    expect(stripMention("<@U0BOT|chatbot>   ", "U0BOT")).toBe("");
    expect(mentions("hi <@U0BOT|chatbot>", "U0BOT")).toBe(true);
    expect(mentions("hi <@U0BOB>", "U0BOT")).toBe(false);
  });
});
