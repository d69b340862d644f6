// Sliding "any span of length L" windows over time-sorted stamps, shared by invite_velocity,
// device_reuse and reward_gaming (design §5 "within any 1-hour span", "within 24 h").
//
// A span is half-open, [s, s + L): two stamps exactly L apart are never in one span. The busiest
// span ending at a stamp j holds the stamps in (t_j − L, t_j]; every set of stamps that fits in
// some span fits in the trailing window of its latest member, so scanning the trailing window of
// each distinct time finds every span that matters, in O(n) with two pointers.
import type { Stamp } from './types.ts';

export interface TrailingWindow {
  /** First index (in sort order) of the stamps at the window's end time: the event that closes it. */
  end: number;
  /** Index of the window's earliest stamp. */
  lo: number;
  /** Index of the window's last stamp (the last of the stamps tied at the end time). */
  hi: number;
}

/**
 * Calls `visit` with the trailing window of every distinct time in `sorted` (sorted by
 * compareStamps), earliest first; stops when `visit` returns true. Stamps tied at one time are
 * one window, closed by the first of them in sort order, so the closing event is deterministic.
 */
export function scanTrailingWindows(sorted: readonly Stamp[], spanMs: number, visit: (w: TrailingWindow) => boolean | void): void {
  let lo = 0;
  for (let end = 0; end < sorted.length; ) {
    const t = sorted[end].at;
    let hi = end;
    while (hi + 1 < sorted.length && sorted[hi + 1].at === t) hi++;
    while (sorted[lo].at <= t - spanMs) lo++;
    if (visit({ end, lo, hi })) return;
    end = hi + 1;
  }
}

/** The earliest trailing window holding MORE than `limit` stamps, or null (the first time a threshold was crossed). */
export function firstCrossing(sorted: readonly Stamp[], spanMs: number, limit: number): TrailingWindow | null {
  if (sorted.length <= limit) return null;
  let found: TrailingWindow | null = null;
  scanTrailingWindows(sorted, spanMs, (w) => {
    if (w.hi - w.lo + 1 > limit) found = w;
    return found !== null;
  });
  return found;
}
