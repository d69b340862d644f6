// Chance to beat control (design §6, Beta(1,1) priors). Values against SciPy's quad live in
// reference.test.ts; here: closed forms, and properties that hold on both computation paths
// (exact sum for small parameters, quadrature beyond 100,000 terms).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chanceToBeatControl } from './beta.ts';

const arm = (exposures: number, conversions: number) => ({ exposures, conversions });

describe('chanceToBeatControl', () => {
  it.each([
    // No data: both posteriors are the uniform prior.
    { description: 'no data in either arm', control: arm(0, 0), treatment: arm(0, 0), expected: 1 / 2 },
    // Beta(2,1) (density 2x) against uniform: ∫ 2x · x dx = 2/3.
    { description: 'one converter against no data', control: arm(0, 0), treatment: arm(1, 1), expected: 2 / 3 },
    // Beta(1,2) (density 2(1 − x)) against uniform: ∫ 2(1 − x) · x dx = 1/3.
    { description: 'one non-converter against no data', control: arm(0, 0), treatment: arm(1, 0), expected: 1 / 3 },
    // Uniform against Beta(2,1): P(U > X) = ∫ 2x (1 − x) dx = 1/3.
    { description: 'no data against a converting control', control: arm(1, 1), treatment: arm(0, 0), expected: 1 / 3 },
  ])('$description', ({ control, treatment, expected }) => {
    expect(chanceToBeatControl(control, treatment)).toBeCloseTo(expected, 12);
  });

  const armArb = (maxExposures: number) =>
    fc.integer({ min: 0, max: maxExposures }).chain((n) => fc.record({ exposures: fc.constant(n), conversions: fc.integer({ min: 0, max: n }) }));

  it('swapping the arms gives the complement (every branch of the exact sum)', () => {
    fc.assert(
      fc.property(armArb(400), armArb(400), (a, b) => {
        expect(chanceToBeatControl(a, b) + chanceToBeatControl(b, a)).toBeCloseTo(1, 9);
      }),
    );
  });

  it('swapping the arms gives the complement (quadrature, millions of users)', () => {
    const bigArm = fc
      .record({ n: fc.integer({ min: 500_000, max: 5_000_000 }), rate: fc.double({ min: 0.3, max: 0.7, noNaN: true }) })
      .map(({ n, rate }) => arm(n, Math.round(n * rate)));
    fc.assert(
      fc.property(bigArm, bigArm, (a, b) => {
        // log-Gamma cancellation at millions of users limits this path to ~1e-8 (still 100× inside §6's 1e-6).
        expect(Math.abs(chanceToBeatControl(a, b) + chanceToBeatControl(b, a) - 1)).toBeLessThan(1e-7);
      }),
      { numRuns: 30 },
    );
  });

  it('one more treatment conversion never lowers the chance', () => {
    fc.assert(
      fc.property(armArb(300), armArb(300), (control, treatment) => {
        fc.pre(treatment.conversions < treatment.exposures);
        const more = { ...treatment, conversions: treatment.conversions + 1 };
        expect(chanceToBeatControl(control, more)).toBeGreaterThanOrEqual(chanceToBeatControl(control, treatment) - 1e-12);
      }),
    );
  });
});
