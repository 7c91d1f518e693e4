import type { FastifyInstance } from "fastify";

/**
 * One readiness check: whether that dependency works now. A check that throws
 * fails, and the error's code (a StoreError's backend code, e.g. SQLITE_BUSY)
 * is shown as the reason.
 */
export type ReadyCheck = () => Promise<boolean>;

export interface OpsOptions {
  /** Named checks for /ready, e.g. the store and each connected platform. */
  checks: Record<string, ReadyCheck>;
  /** Prometheus text for /metrics; absent = /metrics is not served. */
  metricsText?: () => Promise<string>;
  /** How long one check may take before it counts as failed (ms; default 2,000). */
  checkTimeoutMs?: number;
  /** More to show in /ready's body that does not decide readiness (each MCP tool server's state). */
  details?: () => Record<string, unknown>;
}

/**
 * /ready for load balancers (503 until every check passes, naming the ones
 * that fail) and, when enabled, /metrics for Prometheus. /health (liveness)
 * is in createWebServer.
 */
export function registerOpsRoutes(app: FastifyInstance, options: OpsOptions): void {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  app.get("/ready", async (_request, reply) => {
    const results: Record<string, boolean> = {};
    const reasons: Record<string, string> = {};
    await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        const outcome = await Promise.race([
          check().then(
            (ok) => (ok ? true : "failed"),
            (err: unknown) => reasonOf(err),
          ),
          new Promise<string>((resolve) =>
            setTimeout(() => resolve(`no answer in ${timeoutMs} ms`), timeoutMs).unref(),
          ),
        ]);
        results[name] = outcome === true;
        if (outcome !== true) reasons[name] = outcome;
      }),
    );
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : "not ready",
      checks: results,
      ...(ready ? {} : { reasons }),
      ...(options.details?.() ?? {}),
    });
  });
  const metricsText = options.metricsText;
  if (metricsText) {
    app.get("/metrics", async (_request, reply) =>
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(await metricsText()),
    );
  }
}

/** A short, secret-free reason: the error's code (backend code first), else "failed". */
function reasonOf(err: unknown): string {
  const e = err as { backendCode?: unknown; code?: unknown } | null;
  if (typeof e?.backendCode === "string") return e.backendCode;
  if (typeof e?.code === "string") return e.code;
  return "failed";
}
