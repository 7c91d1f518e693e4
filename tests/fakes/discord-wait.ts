import type { EventEmitter } from "node:events";

/**
 * Resolves with the predicate's first truthy value, checked at once, at every
 * "change" event of `events`, and every 25 ms; rejects with `timeoutMessage`
 * after `timeoutMs`.
 */
export function waitForChange<T>(
  events: EventEmitter,
  predicate: () => T | undefined | null | false,
  timeoutMessage: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = predicate();
      if (!value) return;
      cleanup();
      resolve(value);
    };
    const timer = setInterval(check, 25);
    const timeout = setTimeout(() => {
      cleanup();
      reject(new Error(timeoutMessage));
    }, timeoutMs);
    const cleanup = () => {
      clearInterval(timer);
      clearTimeout(timeout);
      events.off("change", check);
    };
    events.on("change", check);
    check();
  });
}
