import type { UsageRow } from "./ledger.js";

/** The export's columns, in order (CSV header and JSONL keys). */
const COLUMNS = [
  "day",
  "dimension",
  "platform",
  "workspace",
  "id",
  "turns",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "estimated_turns",
  "cost",
] as const;

function record(row: UsageRow): Record<(typeof COLUMNS)[number], string | number> {
  return {
    day: row.day,
    dimension: row.dimension,
    platform: row.platform ?? "",
    workspace: row.workspace ?? "",
    id: row.id,
    turns: row.turns,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cached_input_tokens: row.cachedInputTokens,
    estimated_turns: row.estimatedTurns,
    // Sums of floats: round away the binary noise, keep what a price per million can express.
    cost: Math.round(row.cost * 1e9) / 1e9,
  };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The operator's export of daily usage rows (one per day and user, channel,
 * workspace or model): CSV with a header line, or JSON Lines.
 */
export function formatExport(rows: UsageRow[], format: "csv" | "jsonl"): string {
  if (format === "jsonl") return rows.map((r) => `${JSON.stringify(record(r))}\n`).join("");
  const lines = [COLUMNS.join(",")];
  for (const r of rows) {
    const rec = record(r);
    lines.push(COLUMNS.map((c) => csvField(rec[c])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
