import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { writePdf } from "../../tests/attachments/files.js";
import type { CaseResult } from "./case.js";

/**
 * What preparing one attachment costs (src/attachments/): a 4,000 × 3,000
 * camera-like JPEG scaled for the model, and a 20-page PDF's text. Each runs
 * in a fresh process, so its peak memory is its own: one cold run (the
 * libraries' loading timed apart), one first run, then more; ms, and the
 * process's peak RSS over what it used before preparing anything.
 */
export async function runAttachmentBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "chatbot-bench-files-"));
  try {
    const photo = join(dir, "photo.jpg");
    writeFileSync(photo, await cameraLikeJpeg(4000, 3000));
    const pdf = join(dir, "report.pdf");
    writeFileSync(
      pdf,
      await writePdf(20, (n) =>
        Array.from(
          { length: 35 },
          (_, i) => `Page ${n}, line ${i + 1}: quarterly figures, notes and remarks.`,
        ),
      ),
    );
    const rows = [runCase("photo", photo), runCase("pdf", pdf)];
    console.log("\n**Preparing attachments** (one file at a time; fresh process per file)\n");
    console.log(
      "| file | size | result | load modules (ms) | first run (ms) | later runs p50 / max (ms) | peak RSS added (MB) |",
    );
    console.log(
      "| ---- | ---- | ------ | ----------------- | -------------- | ------------------------- | ------------------- |",
    );
    for (const r of rows)
      console.log(
        `| ${r.file} | ${size(r.inputBytes)} | ${r.result} | ${r.loadMs.toFixed(0)} | ${r.coldMs.toFixed(0)} | ${r.warmP50Ms.toFixed(0)} / ${r.warmMaxMs.toFixed(0)} | ${r.peakRssAddedMb.toFixed(0)} |`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const size = (bytes: number) =>
  bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function runCase(kind: "photo" | "pdf", path: string): CaseResult {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "case.ts"), kind, path],
    {
      encoding: "utf8",
    },
  );
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as CaseResult;
}

/** Smooth colour fields with fine grain on top: compresses like a 12-megapixel camera JPEG (a few MB). */
async function cameraLikeJpeg(width: number, height: number): Promise<Buffer> {
  const small = Buffer.alloc((width / 40) * (height / 40) * 3);
  for (let i = 0; i < small.length; i++) small[i] = (i * 7919 + ((i * 31) % 97) * 13) % 256;
  const base = await sharp(small, { raw: { width: width / 40, height: height / 40, channels: 3 } })
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer();
  let seed = 42;
  for (let i = 0; i < base.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    base[i] = Math.max(0, Math.min(255, base[i]! + ((seed >>> 24) % 25) - 12));
  }
  return sharp(base, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}
