import { describe, it, expect } from 'vitest';
import { quantile } from 'simple-statistics';
import { latency } from './stats.ts';

describe('latency', () => {
  it('takes interpolated percentiles of unsorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1); // 1..100 shuffled
    expect(latency(samples)).toEqual({ count: 100, p50: 50.5, p95: 95.05, p99: 99.01, max: 100 });
  });

  it('agrees with simple-statistics on skewed data', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 250 : 1 + (i % 7) / 10));
    const l = latency(samples);
    expect(l.p99).toBeCloseTo(quantile(samples, 0.99), 3);
    expect(l.p50).toBeCloseTo(quantile(samples, 0.5), 3);
  });

  it('is all zeros without samples', () => {
    expect(latency([])).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });
});
