/**
 * Runs work for one key strictly in arrival order while different keys run in
 * parallel. `enter` resolves when it is the caller's turn and returns the
 * function that ends it; a caller aborted while waiting leaves the line
 * without blocking the ones behind it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** How many keys have a turn running or waiting. */
  get activeKeys(): number {
    return this.tails.size;
  }

  async enter(key: string, signal?: AbortSignal): Promise<() => void> {
    // Before taking a place: an aborted caller must not leave a place nobody will release.
    signal?.throwIfAborted();
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      release();
      // Forget the key only once everything before us has ended too: a waiter that gives up
      // while an earlier turn still runs must leave that turn in the line.
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    };
    if (!signal) {
      await previous;
      return done;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      previous.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
    return done;
  }
}
