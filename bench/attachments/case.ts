import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";

/** One benchmark case's figures, printed as the last line of the child process. */
export interface CaseResult {
  file: string;
  inputBytes: number;
  result: string;
  /** Loading the libraries the file needs (sharp; unpdf's pdf.js), once per process. */
  loadMs: number;
  coldMs: number;
  warmP50Ms: number;
  warmMaxMs: number;
  peakRssAddedMb: number;
}

const WARM_RUNS = 7;

// Run as a child of bench/attachments/index.ts: `case.ts photo|pdf <path>`.
const [kind, path] = process.argv.slice(2);
if (kind && path) {
  const bytes = readFileSync(path);
  const name = basename(path);
  let t = performance.now();
  const { DEFAULT_ATTACHMENT_LIMITS, prepareFiles } = await import("../../src/attachments/index.js");
  // What the first file of its kind loads in a running bot (both are imported on first use).
  await import(kind === "pdf" ? "unpdf" : "sharp");
  const loadMs = performance.now() - t;
  const prepare = () => prepareFiles([{ name, bytes }], DEFAULT_ATTACHMENT_LIMITS);
  const rssBeforeKb = process.memoryUsage().rss / 1024;
  t = performance.now();
  const first = await prepare();
  const coldMs = performance.now() - t;
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    t = performance.now();
    await prepare();
    warm.push(performance.now() - t);
  }
  warm.sort((a, b) => a - b);
  const image = first.images[0];
  const result: CaseResult = {
    file: kind === "photo" ? "photo 4,000 × 3,000 JPEG" : "PDF, 20 pages of text",
    inputBytes: bytes.length,
    result: image
      ? `${image.mediaType} ${image.width} × ${image.height}, ${(image.data.length / 1024).toFixed(0)} KB`
      : `${first.text.length.toLocaleString("en")} characters of text`,
    loadMs,
    coldMs,
    warmP50Ms: warm[Math.floor(warm.length / 2)] ?? 0,
    warmMaxMs: warm.at(-1) ?? 0,
    peakRssAddedMb: (process.resourceUsage().maxRSS - rssBeforeKb) / 1024,
  };
  console.log(JSON.stringify(result));
}
