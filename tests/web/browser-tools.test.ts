import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpMcp, startHttpMcp } from "../helpers/mcp.js";
import { startWeb, type WebHarness } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === "true")
  throw new Error(`${CHROMIUM} is missing; CI must run: apt-get install -y chromium`);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

describe.skipIf(!hasChromium)("chat page: a tool running", () => {
  let t: WebHarness;
  let mcp: HttpMcp;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    mcp = await startHttpMcp();
    t = await startWeb({ bot: { tools: { servers: [mcp.config("notes", true)] } } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(t.baseUrl);
    await page.waitForSelector("body[data-ready]");
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await mcp?.close();
  });

  it("shows the tool's status line after the text while it runs, and not in the finished answer", async () => {
    t.fake.enqueue({ text: "Checking. ", toolCalls: [{ name: "wait", args: {} }] }, { text: "All done." });
    await page.locator("#input").fill("check");
    await page.locator("#input").press("Enter");
    const bubble = page.locator(".msg.assistant.streaming .bubble");
    await expect.poll(() => bubble.textContent(), { timeout: 10_000 }).toContain("🔧 wait…");
    expect(await bubble.textContent()).toContain("Checking.");
    mcp.release();
    await page.waitForSelector(".msg.assistant.streaming", { state: "detached" });
    const answer = page.locator(".msg.assistant").last();
    const text = (await answer.textContent()) ?? "";
    expect(text).toContain("All done.");
    expect(text).not.toContain("wait…");
    expect(text).toContain("🔧 Used wait");
  });
});
