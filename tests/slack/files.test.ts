import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { drawPng, writePdf } from "../attachments/files.js";
import type { SlackFileObject } from "../fakes/slack.js";
import { appMentionEvent, messageEvent, slashCommand } from "../fakes/slackEvents.js";
import { allText, decodeImage, fitsSizeLimit, imagesIn } from "../helpers/images.js";
import { storedImageKeys } from "../helpers/stored.js";
import { ALICE, CHANNEL, type Harness, type HarnessOptions, startHarness } from "./harness.js";

const NO_VISION = "_This model cannot see images, so I answered the text only._";

describe("Slack files", () => {
  let h: Harness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const start = async (options: HarnessOptions = {}) => {
    h = await startHarness(options);
    return h;
  };

  /** A person mentions the bot with files: Slack sends `message` (file_share) and `app_mention`. */
  const mentionWithFiles = async (text: string, files: SlackFileObject[], threadTs?: string) => {
    const ts = h!.slack.nextTs();
    const m = {
      channel: CHANNEL,
      user: ALICE.id,
      text: `<@${h!.slack.botUserId}> ${text}`,
      ts,
      thread_ts: threadTs,
    };
    await h!.deliver(messageEvent(m, { subtype: "file_share", files }));
    await h!.deliver({ ...appMentionEvent(m), files });
    return ts;
  };

  /** The bot's final answer in a thread (no cursor), once it is there. */
  const answerIn = async (threadTs: string, count = 1) => {
    await h!.slack.waitFor(
      () => {
        const mine = h!.slack.botMessagesIn(CHANNEL, threadTs);
        return (
          mine.length >= count && !mine.at(-1)!.text.includes("▌") && mine.at(-1)!.text.includes("You said")
        );
      },
      10_000,
      "the answer",
    );
    // slackify-markdown wraps italics in zero-width spaces so Slack sees their edges.
    return h!.slack.botMessagesIn(CHANNEL, threadTs).at(-1)!.text.replaceAll("\u200b", "");
  };

  for (const provider of ["openai", "anthropic"] as const) {
    it(`downloads a screenshot with the bot token and sends it to ${provider}, and again in the follow-up`, async () => {
      await start({ bot: { provider, contextTokens: 100_000 } });
      const png = h!.slack.upload("error.png", await drawPng(2400, 1800), "image/png");
      const ts = await mentionWithFiles("what does this error say?", [png]);
      await answerIn(ts);
      expect(h!.testBot.fake.requests).toHaveLength(1);
      expect(h!.slack.served(png).requests).toBe(1);

      const [image] = imagesIn(h!.testBot.fake.lastBody);
      expect(image?.mediaType).toBe("image/png");
      const pixels = await decodeImage(image!.bytes);
      expect(fitsSizeLimit(pixels)).toBe(true);
      expect(pixels.left).toEqual([255, 0, 0]);
      expect(pixels.right).toEqual([0, 0, 255]);

      // A follow-up in the thread the bot joined needs no mention, and the image goes along again.
      await h!.deliver(
        messageEvent({
          channel: CHANNEL,
          user: ALICE.id,
          text: "and the second line?",
          ts: h!.slack.nextTs(),
          thread_ts: ts,
        }),
      );
      await answerIn(ts, 2);
      const again = imagesIn(h!.testBot.fake.lastBody);
      expect(again.map((i) => i.bytes.equals(image!.bytes))).toEqual([true]);
      expect(allText(h!.testBot.fake.lastBody)).toContain("and the second line?");
    });
  }

  it("reads a PDF and a text snippet into the question", async () => {
    await start({ bot: { contextTokens: 100_000 } });
    const pdf = h!.slack.upload(
      "report.pdf",
      await writePdf(2, (n) => [`Quarterly report, page ${n}`, `Revenue grew ${n * 7} percent`]),
      "application/pdf",
    );
    const log = h!.slack.upload("build.log", "error TS2322: Type 'string' is not assignable\n", "text/plain");
    const ts = await mentionWithFiles("summarize", [pdf, log]);
    await answerIn(ts);
    const text = allText(h!.testBot.fake.lastBody);
    expect(text).toContain("Attached file report.pdf (PDF, 2 pages):");
    expect(text).toContain("Revenue grew 14 percent");
    expect(text).toContain("Attached file build.log:\n```\nerror TS2322: Type 'string' is not assignable");
  });

  it("never downloads a file Slack says is too large, stops reading one that is larger than it said, and fetches only from Slack's file host", async () => {
    await start();
    const maxBytes = h!.testBot.bot.attachmentLimits.maxFileBytes;
    const big = h!.slack.upload("scan.pdf", "", "application/pdf", { generatedBytes: maxBytes + 1024 });
    const liar = h!.slack.upload("photo.jpg", "", "image/jpeg", {
      generatedBytes: maxBytes * 4,
      claimedSize: 50_000,
      chunked: true,
    });
    const elsewhere = { ...h!.slack.upload("x.png", await drawPng(20, 20), "image/png") };
    elsewhere.url_private_download = "http://127.0.0.2:9/x.png";
    const ts = await mentionWithFiles("look", [big, liar, elsewhere]);
    const text = await answerIn(ts);
    expect(h!.slack.served(big).requests).toBe(0);
    expect(h!.slack.served(liar).aborted).toBe(true);
    expect(h!.slack.served(liar).bytesSent).toBeLessThan(maxBytes * 2);
    expect(h!.slack.served(elsewhere).requests).toBe(0);
    expect(text).toContain("_scan.pdf is 20.0 MB; I read files up to 20.0 MB._");
    expect(text).toContain("_photo.jpg is larger than 20.0 MB, the most I read._");
    expect(text).toContain("_x.png is not on the platform's file servers, so I did not download it._");
    expect(allText(h!.testBot.fake.lastBody)).toContain("look");
  });

  it("says so when Slack sends its sign-in page instead of the file (no files:read scope)", async () => {
    await start();
    h!.slack.filesReadScope = false;
    const png = h!.slack.upload("shot.png", await drawPng(100, 100), "image/png");
    const ts = await mentionWithFiles("see this?", [png]);
    const text = await answerIn(ts);
    expect(text).toContain(
      "_shot.png could not be downloaded: the platform sent a sign-in page instead (a missing permission?)._",
    );
    expect(h!.logs.some((l) => String(l.msg).includes("files:read"))).toBe(true);
    expect(imagesIn(h!.testBot.fake.lastBody)).toHaveLength(0);
  });

  it("tells the user when the model cannot see images, and answers the text", async () => {
    await start({ bot: { vision: false } });
    const png = h!.slack.upload("chart.png", await drawPng(300, 200), "image/png");
    const ts = await mentionWithFiles("what trend?", [png]);
    const text = await answerIn(ts);
    // The note is shown under the answer.
    expect(text.startsWith("You said: what trend?"), text).toBe(true);
    expect(text.endsWith(NO_VISION), text).toBe(true);
    expect(imagesIn(h!.testBot.fake.lastBody)).toHaveLength(0);
  });

  it("/reset in the channel deletes the images of its threads", async () => {
    dir = mkdtempSync(join(tmpdir(), "chatbot-slack-"));
    const path = join(dir, "store.sqlite");
    await start({ bot: { storeUrl: `sqlite://${path}` } });
    const ts = await mentionWithFiles("keep these", [
      h!.slack.upload("a.png", await drawPng(100, 100), "image/png"),
      h!.slack.upload("b.png", await drawPng(120, 100), "image/png"),
    ]);
    await answerIn(ts);
    expect(await storedImageKeys(path)).toHaveLength(2);
    const res = await h!.post.form(slashCommand(h!.slack, { channel: CHANNEL, user: ALICE.id }));
    expect(res.status).toBe(200);
    expect(await storedImageKeys(path)).toEqual([]);
  });
});
