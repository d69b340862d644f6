import { describe, it, expect } from 'vitest';
import { atLeast, atMost, renderTable } from './report.ts';

describe('verdicts', () => {
  it.each([
    { measured: 16_000, reference: 20_000, min: 0.8, ratio: 0.8, pass: true, description: 'exactly at the target' },
    { measured: 15_300, reference: 20_449, min: 0.8, ratio: 0.75, pass: false, description: 'below' },
    { measured: 5, reference: 0, min: 0.5, ratio: 0, pass: false, description: 'no reference measured' },
  ])('atLeast: $description', ({ measured, reference, min, ratio, pass }) => {
    expect(atLeast(measured, reference, min)).toEqual({ ratio, pass, target: `≥ ${min.toFixed(2)} × ref` });
  });

  it('atMost compares a latency with its limit', () => {
    expect(atMost(184, 2000, 'p95')).toEqual({ ratio: 0.09, pass: true, target: 'p95 ≤ 2000 ms' });
    expect(atMost(2.5, 2, 'p99')).toEqual({ ratio: 1.25, pass: false, target: 'p99 ≤ 2 ms' });
  });
});

describe('renderTable', () => {
  it('aligns every row and shows skipped figures with their reason', () => {
    const t = renderTable([
      { id: 'a', label: 'ingest', value: '1,000 ev/s', reference: 'raw 2,000 ev/s', ...atLeast(1000, 2000, 0.8) },
      { id: 'b', label: 'assignment', value: '', skipped: 'route does not exist yet', target: 'p99 ≤ 2 ms' },
    ]);
    const lines = t.split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/\| ingest +\| 1,000 ev\/s +\| raw 2,000 ev\/s +\| 0\.50 +\| ≥ 0\.80 × ref +\| NO +\|/);
    expect(lines[3]).toContain('skipped: route does not exist yet');
  });
});
