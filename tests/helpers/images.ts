import sharp from "sharp";

/** An image as a fake model received it, in either provider's shape. */
export interface SentImage {
  /** Which message (index in the request's `messages`) carried it. */
  message: number;
  mediaType: string;
  bytes: Buffer;
}

/**
 * Every image of a recorded request: OpenAI `image_url` parts (data URLs)
 * and Anthropic `image` blocks (base64 sources).
 */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent
export function imagesIn(body: any): SentImage[] {
  const out: SentImage[] = [];
  (body?.messages ?? []).forEach((m: { content: unknown }, i: number) => {
    if (!Array.isArray(m.content)) return;
    for (const part of m.content) {
      if (part.type === "image_url") {
        const match = /^data:([^;]+);base64,(.*)$/.exec(part.image_url.url);
        if (match) out.push({ message: i, mediaType: match[1]!, bytes: Buffer.from(match[2]!, "base64") });
      } else if (part.type === "image" && part.source?.type === "base64") {
        out.push({
          message: i,
          mediaType: part.source.media_type,
          bytes: Buffer.from(part.source.data, "base64"),
        });
      }
    }
  });
  return out;
}

/** All text of a request's messages (string contents and text parts), joined. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever the SDK sent
export function allText(body: any): string {
  const texts: string[] = [];
  if (typeof body?.system === "string") texts.push(body.system);
  for (const m of body?.messages ?? []) {
    if (typeof m.content === "string") texts.push(m.content);
    else for (const p of m.content ?? []) if (p.type === "text") texts.push(p.text);
  }
  return texts.join("\n");
}

/** What the pixels of a sent image are: its format and size as decoded, and the colour at two points. */
export async function decodeImage(bytes: Buffer): Promise<{
  format: string | undefined;
  width: number;
  height: number;
  /** RGB at 1/4 and 3/4 of the width, half-way down. */
  left: number[];
  right: number[];
}> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(bytes).metadata();
  const at = (x: number) => {
    const i = (Math.floor(info.height / 2) * info.width + x) * 3;
    return [data[i]!, data[i + 1]!, data[i + 2]!];
  };
  return {
    format: meta.format,
    width: info.width,
    height: info.height,
    left: at(Math.floor(info.width / 4)),
    right: at(Math.floor((info.width * 3) / 4)),
  };
}

/** The largest image the bot may send: 1568 px on the long edge and 1.15 megapixels. */
export function fitsSizeLimit(image: { width: number; height: number }): boolean {
  return Math.max(image.width, image.height) <= 1568 && image.width * image.height <= 1_150_000;
}
