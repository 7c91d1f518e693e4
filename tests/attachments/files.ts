import { PDFDocument, PDFHexString, PDFName, PDFNumber, StandardFonts } from "pdf-lib";
import sharp from "sharp";

/**
 * Real files made in the test: images drawn with sharp, PDFs written with
 * pdf-lib, so what the bot reads is what a person would attach.
 */

/** A PNG of `width` × `height`: a red left half and a blue right half (a screenshot stand-in). */
export async function drawPng(width: number, height: number): Promise<Buffer> {
  const half = Math.floor(width / 2);
  return sharp({ create: { width, height, channels: 3, background: "#0000ff" } })
    .composite([
      {
        input: { create: { width: half, height, channels: 3, background: "#ff0000" } },
        left: 0,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
}

/** A photo-like JPEG: smooth colour noise, which compresses like a camera picture. */
export async function drawPhoto(width: number, height: number): Promise<Buffer> {
  const small = Buffer.alloc((width / 20) * (height / 20) * 3);
  for (let i = 0; i < small.length; i++) small[i] = (i * 7919 + ((i * 31) % 97) * 13) % 256;
  return sharp(small, { raw: { width: width / 20, height: height / 20, channels: 3 } })
    .resize(width, height, { kernel: "cubic" })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A PDF whose page n (from 1) says `lines(n)`. */
export async function writePdf(pages: number, lines: (page: number) => string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage([595, 842]);
    lines(n).forEach((line, i) => {
      page.drawText(line, { x: 50, y: 780 - i * 16, size: 11, font });
    });
  }
  return Buffer.from(await doc.save());
}

/**
 * A PDF that says it is encrypted with a user password (the Standard
 * security handler, revision 2, with password checks that no empty password
 * passes), as a protected file a person attaches would.
 */
export async function writeEncryptedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  const ctx = doc.context;
  const encrypt = ctx.obj({
    Filter: PDFName.of("Standard"),
    V: PDFNumber.of(1),
    R: PDFNumber.of(2),
    O: PDFHexString.of("ab".repeat(32)),
    U: PDFHexString.of("cd".repeat(32)),
    P: PDFNumber.of(-4),
  });
  ctx.trailerInfo.Encrypt = ctx.register(encrypt);
  ctx.trailerInfo.ID = ctx.obj([PDFHexString.of("01".repeat(16)), PDFHexString.of("01".repeat(16))]);
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}
