/** A document's text, at most `maxChars` of it. */
export interface DocumentText {
  text: string;
  /** Set when more text was there than was kept. */
  truncated: boolean;
  /** PDFs: how many pages the file has. */
  pages?: number;
}

/** A document could not be read; `reason` completes "name …" for the user. */
export class UnreadableDocumentError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "UnreadableDocumentError";
  }
}

/**
 * A PDF's text, page by page, with pdf.js (through unpdf, which bundles it for
 * Node); stops reading pages once `maxChars` are reached, so a long PDF costs
 * no more than a short one. Encrypted and broken files throw UnreadableDocumentError.
 */
export async function pdfText(bytes: Buffer, maxChars: number): Promise<DocumentText> {
  const { getDocumentProxy } = await import("unpdf");
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of (and detaches) the array it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "PasswordException") throw new UnreadableDocumentError("is password-protected");
    throw new UnreadableDocumentError("is not a PDF I can read (it may be damaged)");
  }
  try {
    const pages: string[] = [];
    let chars = 0;
    let truncated = false;
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let text = "";
      for (const item of content.items) {
        if (!("str" in item)) continue;
        text += item.str + (item.hasEOL ? "\n" : "");
      }
      page.cleanup();
      pages.push(text.trim());
      chars += text.length;
      if (chars >= maxChars) {
        truncated = n < pdf.numPages || chars > maxChars;
        break;
      }
    }
    const joined = pages.join("\n\n");
    return {
      text: joined.slice(0, maxChars),
      truncated: truncated || joined.length > maxChars,
      pages: pdf.numPages,
    };
  } catch {
    throw new UnreadableDocumentError("is damaged: its text could not be read");
  } finally {
    await pdf.loadingTask.destroy().catch(() => undefined);
  }
}

/** A Word document's text (mammoth's raw text: paragraphs, no formatting). */
export async function docxText(bytes: Buffer, maxChars: number): Promise<DocumentText> {
  const mammoth = await import("mammoth");
  try {
    const { value } = await mammoth.extractRawText({ buffer: bytes });
    const text = value.trim();
    return { text: text.slice(0, maxChars), truncated: text.length > maxChars };
  } catch {
    throw new UnreadableDocumentError("is not a Word document I can read");
  }
}

/** A text file's text; undefined when it is not text after all (NUL bytes). */
export function plainText(bytes: Buffer, cutShort: boolean, maxChars: number): DocumentText | undefined {
  if (bytes.includes(0)) return undefined;
  // stream: true drops a multi-byte character the cap cut in half instead of showing U+FFFD.
  const text = new TextDecoder("utf-8").decode(bytes, { stream: cutShort });
  return { text: text.slice(0, maxChars), truncated: cutShort || text.length > maxChars };
}
