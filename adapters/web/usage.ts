import type { FastifyInstance } from "fastify";
import { formatExport, parseDay, type Totals, tokensOf, type UsageMeter } from "../../src/usage/index.js";
import { WebError } from "./http.js";

/** The web is one workspace of its own, and its API client one user (it has no accounts). */
const WEB_PLACE = { platform: "web", workspace: "web" };
const WEB_USER = "web";
/** The export covers at most this many days at once (day counters are kept about as long). */
const MAX_EXPORT_DAYS = 400;
const DAY_MS = 24 * 3600 * 1000;

function totalsJson(t: Totals, priced: boolean) {
  return {
    turns: t.turns,
    tokens: tokensOf(t),
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cached_input_tokens: t.cachedInputTokens,
    estimated_turns: t.estimatedTurns,
    ...(priced ? { cost: t.cost } : {}),
  };
}

function intIn(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new WebError(400, "invalid_request", `${name} must be a whole number from ${min} to ${max}.`);
  return n;
}

function dayIn(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === "string" ? parseDay(value) : undefined;
  if (ms === undefined) throw new WebError(400, "invalid_request", `${name} must be a date like 2026-03-09.`);
  return ms;
}

/**
 * GET /usage: the web client's use today and this month and the limits that
 * apply (`?top=N`: also the N busiest users and channels of every platform,
 * for the operator). GET /usage/export: daily rows as CSV or JSON Lines
 * (`?from=&to=` UTC days, default this month; `format=csv|jsonl`). Both sit
 * behind WEB_API_KEY like every API route.
 */
export function registerUsageRoutes(app: FastifyInstance, usage: UsageMeter): void {
  app.get<{ Querystring: Record<string, unknown> }>("/usage", async (request) => {
    const top = intIn(request.query.top, "top", 1, 100);
    const { priced, currency } = usage;
    const [summary, lists] = await Promise.all([
      usage.summary(WEB_PLACE, WEB_USER),
      top ? usage.top(undefined, top) : undefined,
    ]);
    const limits = {
      ...(usage.defaults.userDailyTokens !== undefined
        ? { user_daily_tokens: usage.defaults.userDailyTokens }
        : {}),
      ...(usage.defaults.userDailyCost !== undefined
        ? { user_daily_cost: usage.defaults.userDailyCost }
        : {}),
    };
    const ranked = (list: Array<{ id: string; totals: Totals }>) =>
      list.map((e) => {
        const [platform, workspace, id] = e.id.split(":");
        return { platform, workspace, id, ...totalsJson(e.totals, priced) };
      });
    return {
      user: WEB_USER,
      today: totalsJson(summary.user.today, priced),
      month: totalsJson(summary.user.month, priced),
      limits,
      resets_at: new Date(usage.now() + usage.untilReset()).toISOString(),
      ...(priced ? { currency } : {}),
      ...(lists
        ? {
            top: {
              today: { users: ranked(lists.today.users), channels: ranked(lists.today.channels) },
              month: { users: ranked(lists.month.users), channels: ranked(lists.month.channels) },
            },
          }
        : {}),
    };
  });

  app.get<{ Querystring: Record<string, unknown> }>("/usage/export", async (request, reply) => {
    const { format = "csv" } = request.query;
    if (format !== "csv" && format !== "jsonl")
      throw new WebError(400, "invalid_request", "format must be csv or jsonl.");
    const now = usage.now();
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const firstOfMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
    const from = dayIn(request.query.from, "from", firstOfMonth);
    const to = dayIn(request.query.to, "to", today);
    if (from > to) throw new WebError(400, "invalid_request", "from must not be after to.");
    if ((to - from) / DAY_MS + 1 > MAX_EXPORT_DAYS)
      throw new WebError(
        400,
        "invalid_request",
        `The export covers at most ${MAX_EXPORT_DAYS} days at once.`,
      );
    const body = formatExport(await usage.rows(from, to), format);
    const name = `usage-${new Date(from).toISOString().slice(0, 10)}-${new Date(to).toISOString().slice(0, 10)}`;
    return reply
      .type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
      .header("content-disposition", `attachment; filename="${name}.${format}"`)
      .send(body);
  });
}
