import { createConnection } from "node:net";

/** The store backends every store test runs against; Redis and Postgres are the servers on this machine. */
export const BACKENDS = {
  redis: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  postgres: process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
} as const;

/** Whether something answers on the URL's host and port. */
export function reachable(url: string, timeoutMs = 1_000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol.startsWith("redis") ? 6379 : 5432));
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Decides whether a backend's tests run. Absent server: skip with a message,
 * except under CI=true, where a missing server is a failure.
 */
export async function backendAvailable(name: keyof typeof BACKENDS): Promise<boolean> {
  const url = BACKENDS[name];
  if (await reachable(url)) return true;
  const message = `${name} is not reachable at ${url}: its store tests are skipped (set TEST_${name.toUpperCase()}_URL)`;
  if (process.env.CI === "true") throw new Error(`${message}; under CI=true this is a failure`);
  console.warn(message);
  return false;
}
