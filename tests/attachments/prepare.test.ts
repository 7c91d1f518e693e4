import { Document, Packer, Paragraph, TextRun } from "docx";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { DEFAULT_ATTACHMENT_LIMITS, type IncomingFile, prepareFiles } from "../../src/attachments/index.js";
import { decodeImage, fitsSizeLimit } from "../helpers/images.js";
import { drawPhoto, drawPng, writeEncryptedPdf, writePdf } from "./files.js";

const limits = DEFAULT_ATTACHMENT_LIMITS;
const file = (name: string, bytes: Buffer, contentType?: string): IncomingFile => ({
  name,
  bytes,
  ...(contentType ? { contentType } : {}),
});

describe("preparing attachments", () => {
  it("scales a large photo into the size limit as JPEG, keeping its aspect ratio", async () => {
    const { images, notes } = await prepareFiles([file("photo.jpg", await drawPhoto(4000, 3000))], limits);
    expect(notes).toEqual([]);
    expect(images[0]!.mediaType).toBe("image/jpeg");
    const pixels = await decodeImage(images[0]!.data);
    expect(pixels.format).toBe("jpeg");
    expect(fitsSizeLimit(pixels)).toBe(true);
    expect(pixels.width / pixels.height).toBeCloseTo(4 / 3, 2);
  });

  it("turns a photo upright by its EXIF orientation", async () => {
    // A landscape sensor image marked "rotate 90°" (orientation 6) is a portrait photo.
    const raw = await sharp(await drawPng(400, 200))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { images } = await prepareFiles([file("portrait.jpg", raw, "image/jpeg")], limits);
    expect([images[0]!.width, images[0]!.height]).toEqual([200, 400]);
    const pixels = await decodeImage(images[0]!.data);
    expect([pixels.width, pixels.height]).toEqual([200, 400]);
  });

  it("sends a GIF's first frame as PNG and keeps WebP as WebP", async () => {
    const png = await drawPng(300, 100);
    const gif = await sharp(png).gif().toBuffer();
    const webp = await sharp(png).webp().toBuffer();
    const { images } = await prepareFiles([file("a.gif", gif), file("b.webp", webp)], limits);
    expect(images.map((i) => i.mediaType)).toEqual(["image/png", "image/webp"]);
    expect((await decodeImage(images[0]!.data)).left).toEqual([255, 0, 0]);
  });

  it("says which images were not sent past the per-message cap, and which files were not read", async () => {
    const png = await drawPng(50, 50);
    const many = Array.from({ length: 6 }, (_, i) => file(`${i}.png`, png));
    const { images, notes, text } = await prepareFiles(many, { ...limits, maxImages: 2, maxFiles: 5 });
    expect(images.map((i) => i.name)).toEqual(["0.png", "1.png"]);
    expect(notes).toEqual([
      "I read only the first 5 files of a message.",
      "I looked at only the first 2 images; 3 more were not sent.",
    ]);
    expect(text).toContain("[Attached file 5.png; not read: only 5 files per message are]");
  });

  it("notes a damaged image and an encrypted PDF, and reads the rest", async () => {
    const png = await drawPng(600, 400);
    const cut = png.subarray(0, Math.floor(png.length / 3));
    const pdf = await writePdf(1, () => ["still here"]);
    const { images, notes, text } = await prepareFiles(
      [file("cut.png", cut), file("secret.pdf", await writeEncryptedPdf()), file("ok.pdf", pdf)],
      limits,
    );
    expect(images).toEqual([]);
    expect(notes).toEqual(["cut.png is damaged: it does not decode.", "secret.pdf is password-protected."]);
    expect(text).toContain("still here");
  });

  it("keeps a long PDF's text to the cap and says so, and notes a PDF without text", async () => {
    const long = await writePdf(20, (n) =>
      Array.from({ length: 40 }, (_, i) => `page ${n} line ${i} of the report`),
    );
    const blank = await writePdf(2, () => []);
    const { text, notes } = await prepareFiles([file("long.pdf", long), file("scan.pdf", blank)], {
      ...limits,
      maxDocumentChars: 5_000,
    });
    expect(text).toContain("Attached file long.pdf (PDF, 20 pages, the first 5000 characters of its text):");
    expect(text).toContain("page 1 line 0 of the report");
    expect(text).not.toContain("page 20 line");
    expect(notes).toEqual(["scan.pdf has no text I can read (a scan or only images?)."]);
  });

  it("reads a Word document's text", async () => {
    const doc = new Document({
      sections: [
        { children: [new Paragraph({ children: [new TextRun("Meeting notes: ship on Friday.")] })] },
      ],
    });
    const bytes = await Packer.toBuffer(doc);
    const { text, notes } = await prepareFiles([file("notes.docx", bytes)], limits);
    expect(notes).toEqual([]);
    expect(text).toBe("Attached file notes.docx (Word):\n```\nMeeting notes: ship on Friday.\n```");
  });
});
