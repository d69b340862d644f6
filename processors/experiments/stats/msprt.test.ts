// Always-valid mSPRT p-value (design §6). The formula is checked against the generator's
// independent implementation in reference.test.ts and its error rate in aa-simulation.test.ts;
// here: the running-minimum contract the caller relies on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alwaysValidPValue, msprtLogLikelihoodRatio } from './msprt.ts';

const arm = (exposures: number, conversions: number) => ({ exposures, conversions });

describe('alwaysValidPValue', () => {
  it('equal observed rates are no evidence: Λ < 1, so p = 1', () => {
    expect(msprtLogLikelihoodRatio(arm(1000, 100), arm(2000, 200))!).toBeLessThan(0);
    expect(alwaysValidPValue(arm(1000, 100), arm(2000, 200))).toBe(1);
  });

  it('a clear difference gives p = 1/Λ on the first look', () => {
    const logLambda = msprtLogLikelihoodRatio(arm(20_000, 2000), arm(20_000, 2400))!;
    expect(logLambda).toBeGreaterThan(Math.log(20));
    expect(alwaysValidPValue(arm(20_000, 2000), arm(20_000, 2400))).toBeCloseTo(Math.exp(-logLambda), 15);
  });

  it.each([
    { description: 'zero conversions in both arms', control: arm(500, 0), treatment: arm(400, 0) },
    { description: 'everyone converted', control: arm(50, 50), treatment: arm(40, 40) },
    { description: 'an arm without exposures', control: arm(0, 0), treatment: arm(40, 4) },
  ])('$description: Λ undefined, the previous p carries over', ({ control, treatment }) => {
    expect(msprtLogLikelihoodRatio(control, treatment)).toBeNull();
    expect(alwaysValidPValue(control, treatment, 0.07)).toBe(0.07);
    expect(alwaysValidPValue(control, treatment)).toBe(1);
  });

  it.each([Number.NaN, -0.1, 1.5, Number.POSITIVE_INFINITY])('ignores a previous value %d that is not a probability', (previous) => {
    expect(alwaysValidPValue(arm(1000, 100), arm(1000, 100), previous)).toBe(1);
  });

  it('never exceeds the previous look', () => {
    const armArb = fc.integer({ min: 0, max: 5000 }).chain((n) => fc.record({ exposures: fc.constant(n), conversions: fc.integer({ min: 0, max: n }) }));
    fc.assert(
      fc.property(armArb, armArb, fc.double({ min: 0, max: 1, noNaN: true }), (control, treatment, previous) => {
        const p = alwaysValidPValue(control, treatment, previous);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(previous);
      }),
    );
  });
});
