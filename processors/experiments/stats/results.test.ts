// computeExperimentResults (design §6–§7): every edge case of §6 gives defined values and the flag
// codes of flags.ts (conventions §6), invalid data never throws or leaks NaN/Infinity, and the
// output is deterministic. The numbers themselves are checked against SciPy in reference.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StatsFlag } from './flags.ts';
import { computeExperimentResults, type ExperimentResults, type VariantResult, type VariantStats } from './results.ts';

interface VariantInput {
  name: string;
  exposures: number;
  conversions: number;
  weight?: number;
  /** What each converter paid (non-converters pay 0); default 10, 11, 12, 13, 14, 10, … */
  amount?: (i: number) => number;
}

function makeVariant({ name, exposures, conversions, weight = 50, amount = (i) => 10 + (i % 5) }: VariantInput): VariantStats {
  let revenueSum = 0;
  let revenueSumSquares = 0;
  for (let i = 0; i < conversions; i++) {
    revenueSum += amount(i);
    revenueSumSquares += amount(i) ** 2;
  }
  return { name, weight, exposures, conversions, revenueSum, revenueSumSquares };
}

/** Every number anywhere in the result is finite (no NaN, no ±Infinity). */
function expectAllFinite(value: unknown, path = 'result'): void {
  if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
  else if (Array.isArray(value)) value.forEach((v, i) => expectAllFinite(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) expectAllFinite(v, `${path}.${key}`);
  }
}

function row(result: ExperimentResults, name: string): VariantResult {
  const found = result.variants.find((v) => v.variant === name);
  if (!found) throw new Error(`no row ${name}`);
  return found;
}

const COMPARISON_FIELDS = [
  'abs_diff',
  'abs_diff_ci',
  'lift',
  'lift_ci',
  'z',
  'p_value',
  'p_value_holm',
  'p_value_sequential',
  'chance_to_beat_control',
] as const;

describe('edge cases of design §6 give defined values and flags', () => {
  it.each<{
    description: string;
    variants: VariantInput[];
    control?: string;
    topFlags: StatsFlag[];
    rowFlags: Record<string, StatsFlag[]>;
    fields: Record<string, Record<string, unknown>>;
  }>([
    {
      description: 'zero conversions in both arms',
      variants: [{ name: 'control', exposures: 500, conversions: 0 }, { name: 'b', exposures: 480, conversions: 0 }],
      topFlags: [],
      rowFlags: { control: [], b: ['ZERO_CONVERSIONS', 'CONTROL_ZERO_RATE', 'DEGENERATE_CI', 'REVENUE_ZERO_VARIANCE'] },
      fields: { b: { z: 0, p_value: 1, p_value_holm: 1, abs_diff: 0, abs_diff_ci: [0, 0], lift: null, lift_ci: null, conversion_rate: 0 } },
    },
    {
      description: 'all converted in both arms',
      variants: [{ name: 'control', exposures: 40, conversions: 40 }, { name: 'b', exposures: 50, conversions: 50 }],
      topFlags: [],
      rowFlags: { control: [], b: ['ALL_CONVERTED', 'DEGENERATE_CI'] },
      fields: { b: { z: 0, p_value: 1, abs_diff: 0, abs_diff_ci: [0, 0], lift: 0, lift_ci: [0, 0], conversion_rate: 1 } },
    },
    {
      description: 'n < 30 in both arms',
      variants: [{ name: 'control', exposures: 7, conversions: 2 }, { name: 'b', exposures: 9, conversions: 5 }],
      topFlags: [],
      rowFlags: { control: ['SMALL_SAMPLE'], b: ['SMALL_SAMPLE'] },
      fields: { b: { abs_diff: 5 / 9 - 2 / 7, lift: 5 / 9 / (2 / 7) - 1 } },
    },
    {
      description: 'control converts nobody, treatment some',
      variants: [{ name: 'control', exposures: 200, conversions: 0 }, { name: 'b', exposures: 200, conversions: 5 }],
      topFlags: [],
      rowFlags: { control: [], b: ['CONTROL_ZERO_RATE'] },
      fields: { b: { lift: null, lift_ci: null, abs_diff: 5 / 200 } },
    },
    {
      description: '0% against 100%: the Wald interval collapses',
      variants: [{ name: 'control', exposures: 30, conversions: 0 }, { name: 'b', exposures: 30, conversions: 30 }],
      topFlags: [],
      rowFlags: { control: [], b: ['CONTROL_ZERO_RATE', 'DEGENERATE_CI'] },
      fields: { b: { abs_diff: 1, abs_diff_ci: [1, 1], lift: null } },
    },
    {
      description: 'one user per arm',
      variants: [{ name: 'control', exposures: 1, conversions: 1 }, { name: 'b', exposures: 1, conversions: 0 }],
      topFlags: [],
      rowFlags: {
        control: ['SMALL_SAMPLE', 'REVENUE_TOO_FEW_USERS'],
        b: ['SMALL_SAMPLE', 'DEGENERATE_CI', 'REVENUE_TOO_FEW_USERS'],
      },
      fields: {
        control: { revenue: { mean: 10, variance: null, t: null, p_value: null } },
        b: { abs_diff_ci: [-1, -1], lift: -1, revenue: { mean: 0, variance: null, t: null, p_value: null } },
      },
    },
    {
      description: 'zero revenue variance with equal means',
      variants: [
        { name: 'control', exposures: 60, conversions: 60, amount: () => 5 },
        { name: 'b', exposures: 70, conversions: 70, amount: () => 5 },
      ],
      topFlags: [],
      rowFlags: { control: [], b: ['ALL_CONVERTED', 'DEGENERATE_CI', 'REVENUE_ZERO_VARIANCE'] },
      fields: { b: { revenue: { mean: 5, variance: 0, t: 0, p_value: 1 } } },
    },
    {
      description: 'zero revenue variance with different means',
      variants: [
        { name: 'control', exposures: 60, conversions: 60, amount: () => 5 },
        { name: 'b', exposures: 70, conversions: 70, amount: () => 7 },
      ],
      topFlags: [],
      rowFlags: { control: [], b: ['ALL_CONVERTED', 'DEGENERATE_CI', 'REVENUE_ZERO_VARIANCE'] },
      fields: { b: { revenue: { mean: 7, variance: 0, t: null, p_value: null } } },
    },
    {
      description: 'a treatment with zero exposures',
      variants: [{ name: 'control', exposures: 100, conversions: 20 }, { name: 'b', exposures: 0, conversions: 0 }],
      topFlags: [],
      rowFlags: { control: [], b: ['NO_EXPOSURES'] },
      fields: {
        b: {
          conversion_rate: null,
          z: null,
          p_value: null,
          p_value_holm: null,
          abs_diff_ci: null,
          chance_to_beat_control: null,
          // The always-valid p starts at 1 before there is evidence.
          p_value_sequential: 1,
          revenue: { mean: null, variance: null, t: null, p_value: null },
        },
      },
    },
    {
      description: 'no exposures at all',
      variants: [{ name: 'control', exposures: 0, conversions: 0 }, { name: 'b', exposures: 0, conversions: 0 }],
      topFlags: ['SRM_UNDEFINED'],
      rowFlags: { control: ['NO_EXPOSURES'], b: ['NO_EXPOSURES'] },
      fields: { b: { p_value: null, p_value_sequential: 1 } },
    },
    {
      description: 'a single variant',
      variants: [{ name: 'control', exposures: 300, conversions: 60 }],
      topFlags: ['SINGLE_VARIANT'],
      rowFlags: { control: [] },
      fields: { control: { conversion_rate: 0.2 } },
    },
    {
      description: 'the control is missing',
      control: 'control',
      variants: [{ name: 'b', exposures: 300, conversions: 60 }, { name: 'c', exposures: 310, conversions: 80 }],
      topFlags: ['CONTROL_MISSING'],
      rowFlags: { b: [], c: [] },
      fields: { c: { conversion_rate: 80 / 310, p_value: null, p_value_sequential: null, chance_to_beat_control: null } },
    },
    {
      description: 'a non-positive weight leaves SRM undefined but the comparisons run',
      variants: [{ name: 'control', exposures: 300, conversions: 60, weight: 0 }, { name: 'b', exposures: 300, conversions: 75 }],
      topFlags: ['SRM_UNDEFINED'],
      rowFlags: { control: [], b: [] },
      fields: { b: { abs_diff: 0.05 } },
    },
  ])('$description', ({ variants, control = 'control', topFlags, rowFlags, fields }) => {
    const result = computeExperimentResults({ control }, variants.map(makeVariant));
    expectAllFinite(result);
    expect(result.flags).toEqual(topFlags);
    expect(Object.fromEntries(result.variants.map((v) => [v.variant, v.flags]))).toEqual(rowFlags);
    for (const [name, expected] of Object.entries(fields)) {
      const actual = row(result, name);
      for (const [key, value] of Object.entries(expected)) {
        if (typeof value === 'number') expect(actual[key as keyof VariantResult], `${name}.${key}`).toBeCloseTo(value, 12);
        else expect(actual[key as keyof VariantResult], `${name}.${key}`).toEqual(value);
      }
    }
    if (topFlags.includes('SINGLE_VARIANT')) expect(result.srm_p_value).toBeNull();
  });

  it('the control row carries its own figures and null comparisons', () => {
    const result = computeExperimentResults({ control: 'control' }, [
      makeVariant({ name: 'control', exposures: 1000, conversions: 100 }),
      makeVariant({ name: 'b', exposures: 1000, conversions: 120 }),
    ]);
    const control = row(result, 'control');
    expect(control).toMatchObject({ exposures: 1000, conversions: 100, conversion_rate: 0.1 });
    for (const field of COMPARISON_FIELDS) expect(control[field], field).toBeNull();
    expect(control.revenue.t).toBeNull();
    expect(control.revenue.p_value).toBeNull();
    // 100 converters paying 10..14 evenly: mean over all 1000 users is 1200/1000.
    expect(control.revenue.mean).toBeCloseTo(1.2, 12);
    for (const field of COMPARISON_FIELDS) expect(row(result, 'b')[field], field).not.toBeNull();
  });
});

describe('robustness to invalid data', () => {
  const good = makeVariant({ name: 'control', exposures: 1000, conversions: 100 });
  it.each<{ description: string; bad: VariantStats }>([
    { description: 'NaN exposures', bad: { ...good, name: 'b', exposures: Number.NaN } },
    { description: 'conversions above exposures', bad: { ...good, name: 'b', conversions: 1001 } },
    { description: 'negative conversions', bad: { ...good, name: 'b', conversions: -1 } },
    { description: 'fractional exposures', bad: { ...good, name: 'b', exposures: 10.5 } },
    { description: 'infinite revenue', bad: { ...good, name: 'b', revenueSum: Number.POSITIVE_INFINITY } },
    { description: 'negative sum of squares', bad: { ...good, name: 'b', revenueSumSquares: -4 } },
  ])('$description: the variant is flagged and left out, the rest still computes', ({ bad }) => {
    const c = makeVariant({ name: 'c', exposures: 1000, conversions: 130 });
    const result = computeExperimentResults({ control: 'control' }, [good, bad, c]);
    expectAllFinite(result);
    expect(row(result, 'b').flags).toEqual(['INVALID_INPUT']);
    for (const field of COMPARISON_FIELDS) expect(row(result, 'b')[field], field).toBeNull();
    // Only c is tested, so Holm leaves its p-value unchanged, and SRM covers control and c.
    expect(row(result, 'c').p_value_holm).toBe(row(result, 'c').p_value);
    expect(result.srm_p_value).toBe(1);
  });

  it('an invalid control is a missing control', () => {
    const result = computeExperimentResults({ control: 'control' }, [
      { ...good, conversions: 2000 },
      makeVariant({ name: 'b', exposures: 1000, conversions: 130 }),
    ]);
    expectAllFinite(result);
    expect(result.flags).toEqual(['CONTROL_MISSING', 'SINGLE_VARIANT']);
    expect(row(result, 'b').p_value).toBeNull();
  });
});

// Arbitrary but internally consistent sufficient statistics: converters pay mean `a` with spread
// `s`, so Σx² = c(a² + s²) ≥ (Σx)²/n always holds.
const variantArb = (name: string) =>
  fc
    .record({
      exposures: fc.oneof(fc.constantFrom(0, 1, 2, 29, 30), fc.integer({ min: 0, max: 20_000 })),
      conversionShare: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
      mean: fc.double({ min: 0, max: 100, noNaN: true }),
      spread: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 50, noNaN: true })),
      weight: fc.integer({ min: 1, max: 100 }),
    })
    .map(({ exposures, conversionShare, mean, spread, weight }): VariantStats => {
      const conversions = Math.round(exposures * conversionShare);
      return {
        name,
        weight,
        exposures,
        conversions,
        revenueSum: conversions * mean,
        revenueSumSquares: conversions * (mean * mean + spread * spread),
      };
    });

const experimentArb = fc
  .integer({ min: 2, max: 5 })
  .chain((k) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: k }, (_, i) => variantArb(`v${i}`))),
      fc.array(fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: k, maxLength: k }),
    ),
  );

describe('properties over arbitrary sufficient statistics', () => {
  it('every result is defined, bounded and consistent', () => {
    fc.assert(
      fc.property(experimentArb, ([variants, previousList]) => {
        const previous = Object.fromEntries(variants.map((v, i) => [v.name, previousList[i]]));
        const result = computeExperimentResults({ control: 'v0' }, variants, previous);
        expectAllFinite(result);
        if (result.srm_p_value !== null) expect(result.srm_p_value).toBeGreaterThanOrEqual(0);
        for (const v of result.variants.slice(1)) {
          for (const p of [v.p_value, v.p_value_holm, v.p_value_sequential, v.chance_to_beat_control, v.revenue.p_value]) {
            if (p !== null) {
              expect(p).toBeGreaterThanOrEqual(0);
              expect(p).toBeLessThanOrEqual(1);
            }
          }
          if (v.p_value !== null) expect(v.p_value_holm!).toBeGreaterThanOrEqual(v.p_value);
          const prior = previous[v.variant];
          if (prior !== null) expect(v.p_value_sequential!).toBeLessThanOrEqual(prior);
          if (v.abs_diff_ci) {
            expect(v.abs_diff_ci[0]).toBeLessThanOrEqual(v.abs_diff!);
            expect(v.abs_diff!).toBeLessThanOrEqual(v.abs_diff_ci[1]);
          }
          if (v.lift_ci) {
            expect(v.lift_ci[0]).toBeLessThanOrEqual(v.lift!);
            expect(v.lift!).toBeLessThanOrEqual(v.lift_ci[1]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic and independent of the order of the treatments', () => {
    fc.assert(
      fc.property(experimentArb, ([variants]) => {
        const first = computeExperimentResults({ control: 'v0' }, variants);
        expect(computeExperimentResults({ control: 'v0' }, variants)).toEqual(first);
        const reordered = computeExperimentResults({ control: 'v0' }, [variants[0], ...variants.slice(1).reverse()]);
        for (const v of first.variants) expect(row(reordered, v.variant)).toEqual(v);
        if (first.srm_p_value === null) expect(reordered.srm_p_value).toBeNull();
        else expect(reordered.srm_p_value).toBeCloseTo(first.srm_p_value, 12);
      }),
      { numRuns: 100 },
    );
  });
});
