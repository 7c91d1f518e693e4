/**
 * `iterator.next()` that rejects as soon as `signal` aborts: some SDK
 * iterators ignore an abort while waiting for bytes. One abort listener for
 * the whole stream, not one per delta; `close` removes it.
 */
export function abortableNext<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): (() => Promise<IteratorResult<T>>) & { close(): void } {
  let rejectPending: ((reason: unknown) => void) | undefined;
  const onAbort = () => rejectPending?.(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const next = () => {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      rejectPending = reject;
      iterator.next().then(resolve, reject);
    });
  };
  return Object.assign(next, { close: () => signal.removeEventListener("abort", onAbort) });
}
