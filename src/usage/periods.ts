/** Usage is counted per UTC day: every replica agrees on when a day ends, whatever its time zone. */

const DAY_MS = 24 * 3600 * 1000;

/** "2026-03-09": the UTC day of `ms`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "2026-03": the UTC month of `ms`. */
export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The next UTC midnight after `ms` (when daily limits reset), in ms. */
export function nextUtcMidnight(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}

/** The days of `ms`'s month up to and including its day, oldest first. */
export function monthSoFar(ms: number): string[] {
  const today = Math.floor(ms / DAY_MS) * DAY_MS;
  const first = Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), 1);
  const days: string[] = [];
  for (let t = first; t <= today; t += DAY_MS) days.push(utcDay(t));
  return days;
}

/** Parses "2026-03-09" as that UTC day's midnight, or undefined when it is not such a date. */
export function parseDay(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isNaN(ms) || utcDay(ms) !== text ? undefined : ms;
}

/** Every month ("2026-03") that a day from `fromMs` to `toMs` falls in. */
export function monthsBetween(fromMs: number, toMs: number): string[] {
  const months: string[] = [];
  const d = new Date(fromMs);
  for (let y = d.getUTCFullYear(), m = d.getUTCMonth(); Date.UTC(y, m, 1) <= toMs; m++) {
    months.push(utcMonth(Date.UTC(y, m, 1)));
  }
  return months;
}

/** "3 h 12 min", "45 min", "under a minute". */
export function describeWait(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (ms < 60_000) return "under a minute";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}
