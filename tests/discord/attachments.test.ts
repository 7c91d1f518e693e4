import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { drawPng, writePdf } from "../attachments/files.js";
import { allText, decodeImage, fitsSizeLimit, imagesIn } from "../helpers/images.js";
import { storedImageKeys } from "../helpers/stored.js";
import { type Harness, startHarness } from "./harness.js";

/** Shown under the answer, never part of it. */
const NO_VISION = "\n\n_This model cannot see images, so I answered the text only._";

describe("Discord attachments", () => {
  let h: Harness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const provider of ["openai", "anthropic"] as const) {
    it(`sends a screenshot to ${provider} as a scaled image, and again with the follow-up`, async () => {
      h = await startHarness({ bot: { provider, contextTokens: 100_000 } });
      const dm = h.discord.world.aliceDm;
      const png = h.discord.attachment("screenshot.png", await drawPng(3000, 2000), "image/png");
      h.discord.say({ channel: dm, content: "what is in this screenshot?", attachments: [png] });
      await h.discord.waitFor(() => h!.fake.requests.length === 1 || undefined, "the model call");

      const [image] = imagesIn(h.fake.lastBody);
      expect(image?.mediaType).toBe("image/png");
      const pixels = await decodeImage(image!.bytes);
      expect(pixels.format).toBe("png");
      expect(fitsSizeLimit(pixels)).toBe(true);
      expect(pixels.width / pixels.height).toBeCloseTo(1.5, 1);
      expect(pixels.left).toEqual([255, 0, 0]);
      expect(pixels.right).toEqual([0, 0, 255]);
      expect(allText(h.fake.lastBody)).toContain("what is in this screenshot?");
      await h.discord.waitFor(() => h!.discord.botMessages(dm.id).at(-1)?.content.startsWith("You said"));

      h.discord.say({ channel: dm, content: "and what colour is its left half?" });
      await h.discord.waitFor(() => h!.fake.requests.length === 2 || undefined, "the follow-up call");
      const again = imagesIn(h.fake.lastBody);
      expect(again).toHaveLength(1);
      expect(again[0]!.bytes.equals(image!.bytes)).toBe(true);
      // It rides with the first question, not the new one.
      expect(again[0]!.message).toBeLessThan(h.fake.lastBody.messages.length - 1);
    });
  }

  it("reads a PDF's text into the question", async () => {
    h = await startHarness({ bot: { contextTokens: 100_000 } });
    const dm = h.discord.world.aliceDm;
    const pdf = await writePdf(3, (n) => [`Invoice page ${n}`, `Total due: ${n * 100} euros`]);
    const file = h.discord.attachment("invoice.pdf", pdf, "application/pdf");
    h.discord.say({ channel: dm, content: "how much is due?", attachments: [file] });
    await h.discord.waitFor(() => h!.fake.requests.length === 1 || undefined, "the model call");
    const text = allText(h.fake.lastBody);
    expect(text).toContain("Attached file invoice.pdf (PDF, 3 pages):");
    expect(text).toContain("Total due: 300 euros");
    expect(imagesIn(h.fake.lastBody)).toHaveLength(0);
  });

  it("refuses a file Discord says is too large without downloading it, and stops reading one that lies", async () => {
    h = await startHarness();
    const dm = h.discord.world.aliceDm;
    const maxBytes = h.bot.attachmentLimits.maxFileBytes;
    const big = h.discord.attachment("big.pdf", "", "application/pdf", 0, { generatedBytes: maxBytes + 1 });
    const liar = h.discord.attachment("small.png", "", "image/png", 0, {
      generatedBytes: maxBytes * 5,
      claimedSize: 1_000,
      chunked: true,
    });
    const headerSays = h.discord.attachment("tiny.jpg", "", "image/jpeg", 0, {
      generatedBytes: maxBytes * 2,
      claimedSize: 1_000,
    });
    h.discord.say({ channel: dm, content: "read these", attachments: [big, liar, headerSays] });
    const [answer] = await h.discord.waitFor(() => {
      const last = h!.discord.botMessages(dm.id).at(-1);
      return last?.content.includes("You said") && !last.content.includes("▌") ? [last] : undefined;
    });
    expect(h.discord.served(big).requests).toBe(0);
    const served = h.discord.served(liar);
    expect(served.requests).toBe(1);
    expect(served.aborted).toBe(true);
    expect(served.bytesSent).toBeLessThan(maxBytes * 2);
    // With a Content-Length over the cap nothing is read at all.
    expect(h.discord.served(headerSays).aborted).toBe(true);
    expect(answer!.content).toContain("_big.pdf is 20.0 MB; I read files up to 20.0 MB._");
    expect(answer!.content).toContain("_small.png is larger than 20.0 MB, the most I read._");
    expect(answer!.content).toContain("_tiny.jpg is 40.0 MB; I read files up to 20.0 MB._");
    // The question is still answered.
    expect(allText(h.fake.lastBody)).toContain("read these");
  });

  it("tells the user a model without vision cannot see the image, and answers the text", async () => {
    h = await startHarness({ bot: { vision: false } });
    const dm = h.discord.world.aliceDm;
    const png = h.discord.attachment("photo.png", await drawPng(400, 300), "image/png");
    h.discord.say({ channel: dm, content: "describe this", attachments: [png] });
    const [answer] = await h.discord.waitForBotText(
      dm.id,
      `You said: describe this\n\n[Attached image photo.png]${NO_VISION}`,
    );
    expect(answer).toBeDefined();
    expect(imagesIn(h.fake.lastBody)).toHaveLength(0);
  });

  it("/reset deletes the stored images", async () => {
    dir = mkdtempSync(join(tmpdir(), "chatbot-discord-"));
    const path = join(dir, "store.sqlite");
    h = await startHarness({ bot: { storeUrl: `sqlite://${path}` } });
    const dm = h.discord.world.aliceDm;
    const png = h.discord.attachment("a.png", await drawPng(200, 100), "image/png");
    h.discord.say({ channel: dm, content: "keep this", attachments: [png] });
    await h.discord.waitFor(() => h!.discord.botMessages(dm.id).at(-1)?.content.startsWith("You said"));
    expect(await storedImageKeys(path)).toHaveLength(1);

    const interaction = h.discord.slash({ channel: dm });
    await h.discord.waitFor(() =>
      h!.discord.interactionCallbacks.find((c) => c.interactionId === interaction),
    );
    expect(await storedImageKeys(path)).toEqual([]);
  });
});
