import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { drawPng, writePdf } from "../attachments/files.js";
import { allText, decodeImage, fitsSizeLimit, imagesIn } from "../helpers/images.js";
import { storedImageKeys } from "../helpers/stored.js";
import { post, readSse, startWeb, type WebHarness, type WebHarnessOptions } from "./harness.js";

/** The note shown under the answer (the web API's `notices`), never part of it. */
const NO_VISION = "_This model cannot see images, so I answered the text only._";
const b64 = (bytes: Buffer) => bytes.toString("base64");

describe("web attachments", () => {
  let h: WebHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const start = async (options: WebHarnessOptions = {}) => {
    h = await startWeb(options);
    return h;
  };
  const chat = (body: unknown) => post(h!.baseUrl, "/chat", { stream: false, ...(body as object) });

  for (const provider of ["openai", "anthropic"] as const) {
    it(`sends an attached image to ${provider}, scaled, and again with the follow-up`, async () => {
      await start({ bot: { provider, contextTokens: 100_000 } });
      const png = await drawPng(3200, 1600);
      const res = await chat({
        message: "what is on this screenshot?",
        attachments: [{ name: "shot.png", content_type: "image/png", data: b64(png) }],
      });
      expect(res.status).toBe(200);
      const { conversation_id: id } = (await res.json()) as { conversation_id: string };
      const [image] = imagesIn(h!.fake.lastBody);
      expect(image?.mediaType).toBe("image/png");
      const pixels = await decodeImage(image!.bytes);
      expect(fitsSizeLimit(pixels)).toBe(true);
      expect(pixels.width).toBe(1516);
      expect(pixels.left).toEqual([255, 0, 0]);
      expect(pixels.right).toEqual([0, 0, 255]);

      const follow = await chat({ message: "what is its second line?", conversation_id: id });
      expect(follow.status).toBe(200);
      const again = imagesIn(h!.fake.lastBody);
      expect(again).toHaveLength(1);
      expect(again[0]!.bytes.equals(image!.bytes)).toBe(true);

      const history = (await (await fetch(`${h!.baseUrl}/conversations/${id}`)).json()) as {
        messages: Array<{ role: string; content: string; attachments?: unknown }>;
      };
      // What the person wrote, and the files by name: not what the files said to the model.
      expect(history.messages[0]!.content).toBe("what is on this screenshot?");
      expect(history.messages[0]!.attachments).toEqual([{ name: "shot.png", content_type: "image/png" }]);
    });
  }

  it("streams an answer about a PDF, and a file alone is a question", async () => {
    await start({ bot: { contextTokens: 100_000 } });
    const pdf = await writePdf(20, (n) => [`Chapter ${n}`, `The secret word of chapter ${n} is word${n}.`]);
    const res = await post(h!.baseUrl, "/chat/stream", {
      message: "",
      attachments: [{ name: "book.pdf", content_type: "application/pdf", data: b64(pdf) }],
    });
    expect(res.status).toBe(200);
    const sse = await readSse(res);
    expect(sse.events.at(-1)?.event).toBe("done");
    const text = allText(h!.fake.lastBody);
    expect(text).toContain("Attached file book.pdf (PDF, 20 pages):");
    expect(text).toContain("The secret word of chapter 17 is word17.");
  });

  it("refuses malformed and oversized attachments with a reason, before calling the model", async () => {
    const maxFileBytes = 600 * 1024;
    await start({
      maxUploadBytes: 1024 * 1024,
      bot: {
        botOptions: { attachments: { maxFileBytes, maxFiles: 5, maxImages: 4, maxDocumentChars: 50_000 } },
      },
    });
    // Text that reads like text (a run of one letter is the tokenizer's worst case, not a file's).
    const file = (name: string, bytes: number) => ({
      name,
      data: b64(Buffer.alloc(bytes, "lorem ipsum dolor ")),
    });
    const cases: Array<[unknown, number, string]> = [
      ["not a list", 400, "invalid_attachments"],
      [[{ name: "a.png", data: "***" }], 400, "invalid_attachments"],
      [[{ data: b64(Buffer.from("x")) }], 400, "invalid_attachments"],
      [[file("big.txt", maxFileBytes + 1)], 413, "attachment_too_large"],
      [[file("a.txt", 550 * 1024), file("b.txt", 550 * 1024)], 413, "attachments_too_large"],
      [
        Array.from({ length: 6 }, (_, i) => ({ name: `${i}.txt`, data: b64(Buffer.from("hi")) })),
        413,
        "too_many_attachments",
      ],
    ];
    for (const [attachments, status, code] of cases) {
      const res = await chat({ message: "look", attachments });
      expect(res.status, code).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(h!.fake.requests).toHaveLength(0);
    // Just under the limit fits the request body limit, base64 and all.
    const near = await chat({
      message: "a big text file",
      attachments: [file("a.txt", 500 * 1024), file("b.txt", 500 * 1024)],
    });
    expect(near.status).toBe(200);
  });

  it("answers with a note when an image is not one", async () => {
    await start();
    const res = await chat({
      message: "what is this?",
      attachments: [
        { name: "cat.png", content_type: "image/png", data: b64(Buffer.from("not a picture at all")) },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response: string; notices?: string[] };
    expect(body.response.startsWith("You said: what is this?")).toBe(true);
    expect(body.notices).toEqual(["_cat.png is not an image I can read._"]);
    expect(imagesIn(h!.fake.lastBody)).toHaveLength(0);
  });

  it("tells the user when the model cannot see images", async () => {
    await start({ bot: { vision: false } });
    const res = await chat({
      message: "describe",
      attachments: [{ name: "p.png", content_type: "image/png", data: b64(await drawPng(64, 64)) }],
    });
    const body = (await res.json()) as { response: string; notices?: string[] };
    expect(body.notices).toEqual([NO_VISION]);
    expect(body.response.startsWith("You said: describe")).toBe(true);
    expect(imagesIn(h!.fake.lastBody)).toHaveLength(0);
  });

  it("recognises a model's refusal of images, and answers without them", async () => {
    await start();
    h!.fake.enqueue({
      status: 400,
      errorBody: {
        error: {
          message: "Invalid content type. image_url is only supported by certain models.",
          type: "invalid_request_error",
          param: "messages.[1].content.[1].type",
          code: null,
        },
      },
    });
    const res = await chat({
      message: "describe",
      attachments: [{ name: "p.png", content_type: "image/png", data: b64(await drawPng(64, 64)) }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response: string; notices?: string[] };
    expect(body.response).toBe("You said: describe\n\n[Attached image p.png]");
    expect(body.notices).toEqual([NO_VISION]);
    expect(h!.fake.requests).toHaveLength(2);
    expect(imagesIn(h!.fake.requests[0]!.body)).toHaveLength(1);
    expect(imagesIn(h!.fake.lastBody)).toHaveLength(0);

    // The next image goes to it no more: one request, and the same note.
    const next = await chat({
      message: "and this?",
      attachments: [{ name: "q.png", content_type: "image/png", data: b64(await drawPng(32, 32)) }],
    });
    expect(((await next.json()) as { notices?: string[] }).notices).toEqual([NO_VISION]);
    expect(h!.fake.requests).toHaveLength(3);
    expect(imagesIn(h!.fake.lastBody)).toHaveLength(0);
  });

  it("DELETE /conversations/:id deletes its stored images", async () => {
    dir = mkdtempSync(join(tmpdir(), "chatbot-web-"));
    const path = join(dir, "store.sqlite");
    await start({ bot: { storeUrl: `sqlite://${path}` } });
    const res = await chat({
      message: "keep",
      attachments: [{ name: "p.png", content_type: "image/png", data: b64(await drawPng(64, 64)) }],
    });
    const { conversation_id: id } = (await res.json()) as { conversation_id: string };
    expect(await storedImageKeys(path)).toHaveLength(1);
    await fetch(`${h!.baseUrl}/conversations/${id}`, { method: "DELETE" });
    expect(await storedImageKeys(path)).toEqual([]);
  });
});
