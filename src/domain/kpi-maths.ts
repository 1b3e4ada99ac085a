/**
 * The arithmetic behind the KPIs, kept apart so it can be checked by hand:
 * percentiles, means and ISO weeks (UTC).
 */

export const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/**
 * The p-th percentile (0–100) by linear interpolation between the closest
 * ranks (as spreadsheets' PERCENTILE.INC): the median of 1, 2, 3, 4 is 2.5,
 * the 90th percentile of 1…10 is 9.1. Undefined for no values.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}

/** The same, of values already sorted ascending. */
function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const low = sorted[below] ?? 0;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] ?? low;
  return low + (high - low) * (rank - below);
}

export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** How a set of durations is spread: how many, the median and the 90th percentile (ms). */
export type Spread = { count: number; medianMs?: number; p90Ms?: number };

export function spreadOf(values: readonly number[]): Spread {
  const sorted = Float64Array.from(values).sort();
  const median = percentileOfSorted(sorted, 50);
  const p90 = percentileOfSorted(sorted, 90);
  return { count: values.length, ...(median === undefined ? {} : { medianMs: median }), ...(p90 === undefined ? {} : { p90Ms: p90 }) };
}

/** The Monday 00:00 UTC that starts the ISO week holding `at`. */
export function weekStart(at: number): number {
  const day = new Date(at);
  const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return midnight - sinceMonday * DAY_MS;
}

/** "2027-W01": the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(at: number): string {
  const thursday = weekStart(at) + 3 * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / WEEK_MS) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The starts of the last `count` ISO weeks, oldest first, the one holding `now` last. */
export function lastWeeks(now: number, count: number): number[] {
  const current = weekStart(now);
  return Array.from({ length: count }, (_, i) => current - (count - 1 - i) * WEEK_MS);
}
