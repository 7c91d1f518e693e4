import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawPng } from "../attachments/files.js";
import { decodeImage, fitsSizeLimit, imagesIn } from "../helpers/images.js";
import { startWeb, type WebHarness } from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
// browser.test.ts fails under CI=true when Chromium is missing and says so; this file only skips.
const hasChromium = existsSync(CHROMIUM);
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
];

describe.skipIf(!hasChromium)("chat page: attaching and pasting images", () => {
  let t: WebHarness;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startWeb({ bot: { contextTokens: 100_000 } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    page = await (await browser.newContext({ viewport: { width: 900, height: 800 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(t.baseUrl);
    await page.waitForSelector("body[data-ready]");
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("sends a picked file and a pasted screenshot with the message; the model sees both", async () => {
    const picked = await drawPng(2000, 1000);
    await page
      .locator("#file-input")
      .setInputFiles({ name: "picked.png", mimeType: "image/png", buffer: picked });
    await page.locator("#pending .file").first().waitFor();

    // What a browser does on Ctrl+V with a screenshot on the clipboard: a paste event carrying a file.
    const pasted = (await drawPng(300, 200)).toString("base64");
    await page.locator("#input").focus();
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
      const event = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
      document.getElementById("input")!.dispatchEvent(event);
    }, pasted);
    await page.waitForFunction(() => document.querySelectorAll("#pending .file").length === 2);
    expect(await page.locator("#pending .file img").count()).toBe(2);

    await page.locator("#input").fill("what do these show?");
    await page.locator("#input").press("Enter");
    await page.waitForSelector(".msg.assistant.streaming", { state: "detached" });

    const images = imagesIn(t.fake.lastBody);
    expect(images.map((i) => i.mediaType)).toEqual(["image/png", "image/png"]);
    for (const image of images) expect(fitsSizeLimit(await decodeImage(image.bytes))).toBe(true);
    // The sent message shows its images; the waiting list is empty again.
    expect(await page.locator(".msg.user .files img").count()).toBe(2);
    expect(await page.locator("#pending").isHidden()).toBe(true);
    expect(await page.locator(".msg.assistant").last().textContent()).toContain(
      "You said: what do these show?",
    );

    // After a reload the history names the files.
    await page.reload();
    await page.waitForSelector("body[data-ready]");
    expect(await page.locator(".msg.user .files .name").allTextContents()).toEqual([
      "picked.png",
      "pasted-2.png",
    ]);
    expect(pageErrors).toEqual([]);
  });
});
