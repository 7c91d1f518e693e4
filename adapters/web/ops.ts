import type { FastifyInstance } from "fastify";

/** One readiness check: a name and whether that dependency works now. */
export type ReadyCheck = () => Promise<boolean>;

export interface OpsOptions {
  /** Named checks for /ready, e.g. the store and each connected platform. */
  checks: Record<string, ReadyCheck>;
  /** Prometheus text for /metrics; absent = /metrics is not served. */
  metricsText?: () => Promise<string>;
  /** How long one check may take before it counts as failed (ms; default 2,000). */
  checkTimeoutMs?: number;
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
    await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        results[name] = await Promise.race([
          check().catch(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
        ]);
      }),
    );
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks: results });
  });
  const metricsText = options.metricsText;
  if (metricsText) {
    app.get("/metrics", async (_request, reply) =>
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(await metricsText()),
    );
  }
}
