import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { windowStart, windowStartSeconds, GRANULARITIES, HOUR_MS, DAY_MS, WEEK_MS, type Granularity } from './time.ts';

const t = (iso: string): number => Date.parse(iso);

describe('windowStart (design §4: UTC hour, day, ISO week)', () => {
  it.each([
    { description: 'hour: exact boundary belongs to the window starting there', at: '2025-03-10T10:00:00.000Z', g: 'hour', start: '2025-03-10T10:00:00.000Z' },
    { description: 'hour: last millisecond stays in the previous hour', at: '2025-03-10T09:59:59.999Z', g: 'hour', start: '2025-03-10T09:00:00.000Z' },
    { description: 'day: midnight UTC starts the day', at: '2025-03-10T00:00:00.000Z', g: 'day', start: '2025-03-10T00:00:00.000Z' },
    { description: 'day: 23:59:59.999 is still that day', at: '2025-03-10T23:59:59.999Z', g: 'day', start: '2025-03-10T00:00:00.000Z' },
    { description: 'week: Monday 00:00 starts the week', at: '2025-03-10T00:00:00.000Z', g: 'week', start: '2025-03-10T00:00:00.000Z' },
    { description: 'week: Sunday 23:59:59.999 belongs to the week of the previous Monday', at: '2025-03-16T23:59:59.999Z', g: 'week', start: '2025-03-10T00:00:00.000Z' },
    { description: 'week across a year boundary: Wed 2025-01-01 is in the week of Mon 2024-12-30', at: '2025-01-01T12:00:00.000Z', g: 'week', start: '2024-12-30T00:00:00.000Z' },
    { description: 'week across a year boundary: Sun 2021-01-03 is in the week of Mon 2020-12-28 (ISO week 53)', at: '2021-01-03T08:00:00.000Z', g: 'week', start: '2020-12-28T00:00:00.000Z' },
    { description: 'week: leap day 2024-02-29 (Thu) is in the week of Mon 2024-02-26', at: '2024-02-29T18:30:00.000Z', g: 'week', start: '2024-02-26T00:00:00.000Z' },
    { description: 'week containing the epoch started Mon 1969-12-29', at: '1970-01-01T00:00:00.000Z', g: 'week', start: '1969-12-29T00:00:00.000Z' },
    { description: 'before 1970 floors downwards, not towards zero', at: '1969-12-31T23:30:00.000Z', g: 'hour', start: '1969-12-31T23:00:00.000Z' },
  ] as { description: string; at: string; g: Granularity; start: string }[])('$description', ({ at, g, start }) => {
    expect(new Date(windowStart(t(at), g)).toISOString()).toBe(new Date(t(start)).toISOString());
  });

  it('window starts are unix seconds for DateTime columns', () => {
    expect(windowStartSeconds(t('2025-01-01T12:34:56.789Z'), 'day')).toBe(t('2025-01-01T00:00:00Z') / 1000);
  });

  it('every window start is aligned, contains the time, and weeks start on Monday (UTC)', () => {
    const length: Record<Granularity, number> = { hour: HOUR_MS, day: DAY_MS, week: WEEK_MS };
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 4e12 }), (ms) => {
        for (const g of GRANULARITIES) {
          const start = windowStart(ms, g);
          expect(start).toBeLessThanOrEqual(ms);
          expect(ms - start).toBeLessThan(length[g]);
          expect(windowStart(start, g)).toBe(start);
          const d = new Date(start);
          expect(d.getUTCMinutes() + d.getUTCSeconds() + d.getUTCMilliseconds()).toBe(0);
          if (g !== 'hour') expect(d.getUTCHours()).toBe(0);
          if (g === 'week') expect(d.getUTCDay()).toBe(1);
        }
      }),
    );
  });
});
