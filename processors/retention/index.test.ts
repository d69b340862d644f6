import { describe, expect, it } from 'vitest';
import { partitionsToDrop } from './index.ts';

describe('partitionsToDrop (design §10 retention)', () => {
  const now = Date.UTC(2026, 11, 4); // 2026-12-04
  it.each([
    { description: 'drops whole months older than the cutoff', days: 365, parts: ['202511', '202512', '202601'], expected: ['202511'] },
    { description: 'keeps the month that holds the cutoff', days: 40, parts: ['202609', '202610', '202611'], expected: ['202609'] },
    { description: 'keeps everything young', days: 365, parts: ['202601', '202612'], expected: [] },
    { description: 'ignores ids that are not YYYYMM', days: 31, parts: ['all', '2026', '202601'], expected: ['202601'] },
  ])('$description', ({ days, parts, expected }) => {
    expect(partitionsToDrop(parts, now, days)).toEqual(expected);
  });
});
