import type { Metadata, Sharp } from "sharp";
import type { ImageMediaType } from "../llm/index.js";
import type { PreparedImage } from "./types.js";

/**
 * The size both providers work best with: Anthropic scales anything with a
 * long edge over 1568 px or over about 1.15 megapixels down itself (costing
 * time to first token, and tokens: about width × height / 750); OpenAI fits
 * high detail into 2048 × 2048, then 768 px on the short side. Scaling to the
 * smaller of the two here sends fewer bytes and the same pixels the model sees.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision#evaluate-image-size
 * @see https://platform.openai.com/docs/guides/images-vision#calculating-costs
 */
export const MAX_IMAGE_EDGE_PX = 1568;
export const MAX_IMAGE_PIXELS = 1_150_000;
/**
 * Anthropic refuses an image over 5 MB (of base64 text, 3.75 MB of bytes);
 * OpenAI's cap is higher. An image still larger after scaling is sent as JPEG.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/vision#faq
 */
export const MAX_IMAGE_BYTES = 3_750_000;
/** Decoding a file larger than this (a "decompression bomb") is refused before it is decoded. */
const MAX_INPUT_PIXELS = 100_000_000;

/** An image file could not be used; `reason` completes "name …" for the user. */
export class UnreadableImageError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "UnreadableImageError";
  }
}

/**
 * Decodes an image (PNG, JPEG, GIF: its first frame, WebP), turns it upright
 * (EXIF orientation), scales it to fit MAX_IMAGE_EDGE_PX and MAX_IMAGE_PIXELS
 * and encodes it again: PNG stays PNG (screenshots keep their text sharp),
 * JPEG and WebP keep their format, GIF becomes PNG. Throws UnreadableImageError
 * for anything that is not such an image or does not decode.
 */
export async function prepareImage(name: string, bytes: Buffer): Promise<PreparedImage> {
  // Loaded on the first image, not at start-up: libvips is large, and many bots never see an image.
  const { default: sharp } = await import("sharp");
  const input = () =>
    sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error", autoOrient: true, animated: false });
  let meta: Metadata;
  try {
    meta = await input().metadata();
  } catch {
    throw new UnreadableImageError("is not an image I can read");
  }
  const format = meta.format;
  if (format !== "png" && format !== "jpeg" && format !== "gif" && format !== "webp")
    throw new UnreadableImageError(`is a ${format ?? "unknown"} image; I read PNG, JPEG, GIF and WebP`);
  // Orientations 5-8 swap width and height.
  const [w, h] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
  if (!w || !h) throw new UnreadableImageError("is not an image I can read");
  if (w * h > MAX_INPUT_PIXELS) throw new UnreadableImageError("has too many pixels");
  const scale = Math.min(1, MAX_IMAGE_EDGE_PX / Math.max(w, h), Math.sqrt(MAX_IMAGE_PIXELS / (w * h)));
  const width = Math.max(1, Math.floor(w * scale));
  const height = Math.max(1, Math.floor(h * scale));
  const resized = () => input().resize(width, height, { fit: "fill" });
  try {
    const out = format === "png" || format === "gif" ? "png" : format;
    let data = await encode(resized(), out);
    let mediaType: ImageMediaType =
      out === "png" ? "image/png" : out === "webp" ? "image/webp" : "image/jpeg";
    if (data.length > MAX_IMAGE_BYTES) {
      // A photo saved as PNG: as JPEG it is a fraction of the size, and looks the same to a model.
      data = await encode(resized().flatten({ background: "#ffffff" }), "jpeg");
      mediaType = "image/jpeg";
    }
    if (data.length > MAX_IMAGE_BYTES) throw new UnreadableImageError("is too large even after scaling");
    return { name, mediaType, data, width, height };
  } catch (err) {
    if (err instanceof UnreadableImageError) throw err;
    throw new UnreadableImageError("is damaged: it does not decode");
  }
}

function encode(image: Sharp, format: "png" | "jpeg" | "webp"): Promise<Buffer> {
  if (format === "png") return image.png({ compressionLevel: 6 }).toBuffer();
  if (format === "webp") return image.webp({ quality: 85 }).toBuffer();
  return image.jpeg({ quality: 85 }).toBuffer();
}
