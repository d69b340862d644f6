// Event-time windows (design §4): UTC hour, UTC day and ISO week (Monday 00:00 UTC), computed in
// TypeScript because ClickHouse 18.16 has no toStartOfInterval (design §2) and because the
// processors must assign windows before anything reaches SQL.

export const GRANULARITIES = ['hour', 'day', 'week'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
// 1970-01-01 was a Thursday, so the ISO week containing the epoch began on Monday 1969-12-29,
// three days earlier. Shifting by these three days aligns week buckets to Mondays.
const MONDAY_OFFSET_MS = 3 * DAY_MS;

/**
 * Start (epoch ms UTC) of the `granularity` window containing `ms`. Windows are half-open
 * `[start, start + length)`, so an event exactly at a boundary belongs to the window starting
 * there. Math.floor keeps this right for times before 1970 too. UTC has no leap-second or DST
 * irregularity in epoch ms, so fixed lengths are exact.
 */
export function windowStart(ms: number, granularity: Granularity): number {
  switch (granularity) {
    case 'hour':
      return Math.floor(ms / HOUR_MS) * HOUR_MS;
    case 'day':
      return Math.floor(ms / DAY_MS) * DAY_MS;
    case 'week':
      return Math.floor((ms + MONDAY_OFFSET_MS) / WEEK_MS) * WEEK_MS - MONDAY_OFFSET_MS;
  }
}

/** Window start as unix seconds: what a ClickHouse `DateTime` column takes (ms would become year 2073). */
export function windowStartSeconds(ms: number, granularity: Granularity): number {
  return windowStart(ms, granularity) / 1000;
}
