/**
 * Starts a turn now and resolves, with its items, once its conversation's
 * turn came (`onStart`) or it ended before that (a refusal, a stop). An
 * adapter that waits for this shows nothing (no placeholder) for a message
 * still waiting behind an earlier one, so answers appear in the order their
 * turns run, which across replicas is the order the messages arrived in.
 */
export async function whenTurnStarts<T>(
  start: (onStart: () => void) => AsyncIterable<T>,
): Promise<AsyncIterable<T>> {
  let started!: () => void;
  const begun = new Promise<void>((resolve) => {
    started = resolve;
  });
  const items = start(() => started())[Symbol.asyncIterator]();
  // Pulling the first item runs the turn up to it; a failure is the caller's when it iterates.
  const first = items.next();
  const settled = first.then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([begun, settled]);
  return {
    async *[Symbol.asyncIterator]() {
      try {
        let next = await first;
        while (!next.done) {
          yield next.value;
          next = await items.next();
        }
      } finally {
        await items.return?.();
      }
    },
  };
}
