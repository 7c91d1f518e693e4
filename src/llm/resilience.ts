import { abortableNext } from "../abortable.js";
import { AbortedError, type ChatError, TimeoutError } from "../errors.js";
import { sleep } from "../sleep.js";

export interface ResilienceOptions {
  /** Retries of retryable failures that happen before the first delta. */
  maxRetries: number;
  /** Longest wait for the next delta (also the first) before failing with TimeoutError (ms). */
  idleTimeoutMs: number;
  /** Maps an SDK error to a ChatError. */
  mapError: (err: unknown) => ChatError;
  signal?: AbortSignal;
  /** First backoff step (ms); doubles per retry, with jitter, capped at 8 s. Default 500. */
  backoffMs?: number;
}

/**
 * Runs `open` (one streaming request) with the turn's rules: a retryable
 * failure before the first delta is retried with backoff (honouring the
 * provider's retry-after); after the first delta nothing is retried, since the
 * user already sees text. A silence longer than idleTimeoutMs between deltas
 * aborts the request and throws TimeoutError; aborting `signal` throws AbortedError.
 */
export async function* resilientStream(
  open: (signal: AbortSignal) => AsyncIterable<string>,
  options: ResilienceOptions,
): AsyncGenerator<string, void, undefined> {
  const { signal } = options;
  let yielded = false;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new AbortedError();
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    // While a delta is with the consumer the model is not silent: the timer only starts over.
    let yielding = false;
    // One timer per request, refreshed at each delta (cheaper than a new timer per delta).
    const timer: NodeJS.Timeout = setTimeout(() => {
      if (yielding) {
        timer.refresh();
        return;
      }
      timedOut = true;
      controller.abort(new Error("idle timeout"));
    }, options.idleTimeoutMs);
    try {
      const iterator = open(controller.signal)[Symbol.asyncIterator]();
      const next = abortableNext(iterator, controller.signal);
      try {
        while (true) {
          const item = await next();
          if (item.done) return;
          yielded = true;
          yielding = true;
          yield item.value;
          yielding = false;
          timer.refresh();
        }
      } finally {
        clearTimeout(timer);
        next.close();
        void iterator.return?.()?.catch(() => undefined);
      }
    } catch (err) {
      if (signal?.aborted) throw new AbortedError(undefined, err);
      const chatError = timedOut
        ? new TimeoutError(`No data from the model for ${options.idleTimeoutMs} ms`, err)
        : options.mapError(err);
      if (yielded || !chatError.retryable || attempt >= options.maxRetries) throw chatError;
      await sleep(backoff(attempt, chatError.retryAfterMs, options.backoffMs ?? 500), signal).catch((e) => {
        throw new AbortedError(undefined, e);
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

function backoff(attempt: number, retryAfterMs: number | undefined, baseMs: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, 30_000);
  const ms = Math.min(baseMs * 2 ** attempt, 8_000);
  return ms / 2 + Math.random() * (ms / 2);
}

/** Reads a Retry-After header (seconds or an HTTP date) as ms. */
export function retryAfterMs(
  headers: Headers | Record<string, string | null | undefined> | undefined,
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) =>
    headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()]);
  const ms = get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const value = get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
