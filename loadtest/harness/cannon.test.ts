import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mergeWorkers, split, type CannonSpec } from './cannon.ts';
import { latency } from './stats.ts';

const spec: CannonSpec = { label: 'x', url: 'http://h', method: 'POST', paths: ['/'], headers: {}, connections: 12_500, durationSeconds: 10, overallRate: 2500, now: 0 };

describe('split', () => {
  it('sums to the total with parts at most one apart', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 16 }), (total, parts) => {
        const s = split(total, parts);
        expect(s).toHaveLength(parts);
        expect(s.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('mergeWorkers', () => {
  it('adds per-worker rates and pools latency samples', () => {
    const a = { durationSeconds: 10, statusCodes: { '202': 900, '503': 100 }, errors: 2, timeouts: 1, latenciesMs: [1, 2, 3, 50] };
    const b = { durationSeconds: 8, statusCodes: { '202': 800 }, errors: 0, timeouts: 0, latenciesMs: [4, 5, 6] };
    const m = mergeWorkers(spec, [a, b]);
    expect(m.okPerSecond).toBe(900 / 10 + 800 / 8);
    expect(m.responses).toBe(1800);
    expect(m.non2xx).toBe(100);
    expect(m.errors).toBe(2);
    expect(m.timeouts).toBe(1);
    expect(m.statusCodes).toEqual({ '202': 1700, '503': 100 });
    expect(m.latency).toEqual(latency([1, 2, 3, 50, 4, 5, 6]));
    expect(m.workers).toBe(2);
  });
});
