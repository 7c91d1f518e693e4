import { type DownloadPlan, planDownload, tooLarge } from "./prepare.js";
import type { AttachmentLimits, FileMeta, IncomingFile } from "./types.js";

/** How an adapter fetches one of its platform's files. */
export interface DownloadOptions {
  /** Hosts the file may come from (the platform's file hosts, and its configured API base). */
  allowedHosts: readonly string[];
  /** Sent with the request (Slack: the bot token). Never sent to another host, nor after a redirect to one. */
  headers?: Record<string, string>;
  /** The whole download, first byte to last (ms). Default 20 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The problem of a file the platform answered with a web page (Slack: the app lacks files:read). */
export const SIGN_IN_PAGE =
  "could not be downloaded: the platform sent a sign-in page instead (a missing permission?)";

/** Redirects followed, each to an allowed host only. */
const MAX_REDIRECTS = 3;

/**
 * Downloads one file of a message as the plan for its metadata says
 * (planDownload): refused before any byte when the platform says it is too
 * large, read until `maxBytes` and then stopped (a text file keeps its start;
 * any other file is refused), only from `allowedHosts`. Never throws: what
 * went wrong is the file's `problem`, a sentence for the user.
 */
export async function downloadFile(
  url: string,
  meta: FileMeta,
  limits: AttachmentLimits,
  options: DownloadOptions,
): Promise<IncomingFile> {
  const plan: DownloadPlan = planDownload(meta, limits);
  const file: IncomingFile = {
    name: meta.name,
    ...(meta.contentType ? { contentType: meta.contentType } : {}),
    ...(meta.sizeBytes !== undefined ? { sizeBytes: meta.sizeBytes } : {}),
  };
  if (plan.action === "skip") return file;
  if (plan.action === "refuse") return { ...file, problem: plan.problem };
  try {
    const res = await get(url, options);
    // Slack answers a request it does not authorise (no files:read scope) with its HTML sign-in page.
    const type = res.headers.get("content-type") ?? "";
    if (/^text\/html/i.test(type) && !/\.html?$/i.test(meta.name)) {
      await res.body?.cancel();
      return { ...file, problem: SIGN_IN_PAGE };
    }
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (!plan.partial && declared > plan.maxBytes) {
      await res.body?.cancel();
      return { ...file, problem: tooLarge(declared, plan.maxBytes) };
    }
    const { bytes, cut } = await readAtMost(res, plan.maxBytes);
    // Whatever the metadata said, the file turned out larger than the cap.
    if (cut && !plan.partial) return { ...file, problem: tooLarge(undefined, plan.maxBytes) };
    if (cut) return { ...file, bytes, truncated: true };
    return { ...file, bytes };
  } catch (err) {
    const why = err instanceof DownloadRefused ? err.message : "could not be downloaded";
    return { ...file, problem: why };
  }
}

class DownloadRefused extends Error {}

async function get(url: string, options: DownloadOptions): Promise<Response> {
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 20_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  let target = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!allowed(target, options.allowedHosts))
      throw new DownloadRefused("is not on the platform's file servers, so I did not download it");
    const res = await fetch(target, { headers: options.headers, redirect: "manual", signal });
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      target = new URL(res.headers.get("location") ?? "", target).toString();
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new DownloadRefused(`could not be downloaded (HTTP ${res.status})`);
    }
    return res;
  }
  throw new DownloadRefused("could not be downloaded (too many redirects)");
}

function allowed(url: string, hosts: readonly string[]): boolean {
  try {
    const u = new URL(url);
    if (u.protocol !== "https:" && u.protocol !== "http:") return false;
    return hosts.includes(u.host.toLowerCase()) || hosts.includes(u.hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** Reads the body until `maxBytes`; `cut` when there was more (the rest is never read). */
async function readAtMost(res: Response, maxBytes: number): Promise<{ bytes: Buffer; cut: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), cut: false };
    chunks.push(value);
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks).subarray(0, maxBytes), cut: true };
    }
  }
}

/** The host (and host:port) part of a configured base URL, for `allowedHosts`; none when unset. */
export function hostsOf(...urls: Array<string | undefined>): string[] {
  const out: string[] = [];
  for (const url of urls) {
    if (!url) continue;
    try {
      out.push(new URL(url).host.toLowerCase());
    } catch {
      // Config validated the URLs; a bad one adds no host.
    }
  }
  return out;
}
