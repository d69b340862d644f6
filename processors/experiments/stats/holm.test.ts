// Holm step-down adjustment (design §6). statsmodels agreement is in reference.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holmAdjust } from './holm.ts';

describe('holmAdjust', () => {
  it.each([
    // Sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, max(0.06, 1·0.04).
    { description: 'three tests', input: [0.01, 0.04, 0.03], expected: [0.03, 0.06, 0.06] },
    { description: 'nulls are not tests and do not count in m', input: [0.02, null, 0.5], expected: [0.04, null, 0.5] },
    { description: 'a single test is unchanged', input: [0.013], expected: [0.013] },
    { description: 'capped at 1', input: [0.6, 0.7], expected: [1, 1] },
    { description: 'nothing to adjust', input: [null], expected: [null] },
  ])('$description', ({ input, expected }) => {
    holmAdjust(input).forEach((p, i) => (expected[i] === null ? expect(p).toBeNull() : expect(p).toBeCloseTo(expected[i]!, 15)));
  });

  it('never lowers a p-value, stays ≤ 1 and keeps the ranking', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }), (ps) => {
        const adjusted = holmAdjust(ps) as number[];
        ps.forEach((p, i) => {
          expect(adjusted[i]).toBeGreaterThanOrEqual(p);
          expect(adjusted[i]).toBeLessThanOrEqual(1);
          ps.forEach((q, j) => {
            if (p <= q) expect(adjusted[i]).toBeLessThanOrEqual(adjusted[j]);
          });
        });
      }),
    );
  });
});
