import { describe, expect, it } from 'vitest';
import { firstCrossing, scanTrailingWindows, type TrailingWindow } from './window.ts';
import { type Stamp, compareStamps } from './types.ts';

const stamps = (times: number[]): Stamp[] => times.map((at, i) => ({ at, event_id: `e${String(i).padStart(3, '0')}` })).sort(compareStamps);

describe('scanTrailingWindows', () => {
  it('gives each distinct time its trailing half-open window (t − L, t]', () => {
    const seen: TrailingWindow[] = [];
    scanTrailingWindows(stamps([0, 10, 10, 99, 100, 110]), 100, (w) => void seen.push(w));
    expect(seen).toEqual([
      { end: 0, lo: 0, hi: 0 },
      { end: 1, lo: 0, hi: 2 }, // the two stamps at 10 are one window, closed by the first in order
      { end: 3, lo: 0, hi: 3 },
      { end: 4, lo: 1, hi: 4 }, // 0 is exactly L before 100: not in the span
      { end: 5, lo: 3, hi: 5 }, // both stamps at 10 are exactly L before 110: not in the span
    ]);
  });
});

describe('firstCrossing', () => {
  it.each([
    { times: [0, 1, 2], limit: 2, expected: { end: 2, lo: 0, hi: 2 }, description: 'three within the span exceed 2' },
    { times: [0, 1, 2], limit: 3, expected: null, description: 'three do not exceed 3' },
    { times: [0, 50, 100], limit: 2, expected: null, description: 'first and last exactly one span apart' },
    { times: [0, 50, 99], limit: 2, expected: { end: 2, lo: 0, hi: 2 }, description: 'first and last 1 ms less than a span apart' },
    { times: [5, 5, 5], limit: 2, expected: { end: 0, lo: 0, hi: 2 }, description: 'ties close at their first stamp' },
  ])('$description', ({ times, limit, expected }) => {
    expect(firstCrossing(stamps(times), 100, limit)).toEqual(expected);
  });
});
