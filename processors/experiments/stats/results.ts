// The experiment results of design §7 (`GET /v1/experiments/:id/results`, per-variant fields and
// `srm_p_value`) from the sufficient statistics the counting processor keeps (design §6,
// conventions §6). Pure: same input, same output; data conditions never throw and never produce
// NaN or Infinity — undefined statistics are null and the reason is a flag code from flags.ts.
//
// The control row carries its own counts, rate and revenue mean/variance; every comparison field
// (abs_diff, CIs, lift, z, p-values, chance_to_beat_control, revenue t/p) is null on it, since the
// control is not compared with itself and 0 would read like a measured "no difference".
import { chanceToBeatControl } from './beta.ts';
import { orderFlags, type StatsFlag } from './flags.ts';
import { holmAdjust } from './holm.ts';
import { alwaysValidPValue } from './msprt.ts';
import { srmPValue } from './srm.ts';
import { summarizeMean, welchTTest, type MeanStats } from './welch.ts';
import { absoluteDifference, relativeLift, twoProportionZTest, type ProportionStats } from './z-test.ts';

/** Below this many exposures an arm is flagged SMALL_SAMPLE (design §6 "n < 30"). */
export const SMALL_SAMPLE_SIZE = 30;

/** Sufficient statistics of one variant (revenue is per exposed user; non-buyers add 0). */
export interface VariantStats {
  name: string;
  /** Configured assignment weight (design §6), used by the SRM check. */
  weight: number;
  exposures: number;
  conversions: number;
  revenueSum: number;
  revenueSumSquares: number;
}

/** The part of an experiment definition (design §6) the statistics need. */
export interface ExperimentStatsDefinition {
  control: string;
}

/** Each treatment's always-valid p-value from the previous look, by variant name (msprt.ts). */
export type PreviousSequential = Readonly<Record<string, number | null | undefined>>;

export interface RevenueResult {
  mean: number | null;
  variance: number | null;
  t: number | null;
  p_value: number | null;
}

export interface VariantResult {
  variant: string;
  exposures: number;
  conversions: number;
  conversion_rate: number | null;
  abs_diff: number | null;
  abs_diff_ci: [number, number] | null;
  lift: number | null;
  lift_ci: [number, number] | null;
  z: number | null;
  p_value: number | null;
  p_value_holm: number | null;
  p_value_sequential: number | null;
  chance_to_beat_control: number | null;
  revenue: RevenueResult;
  flags: StatsFlag[];
}

export interface ExperimentResults {
  control: string;
  srm_p_value: number | null;
  variants: VariantResult[];
  flags: StatsFlag[];
}

/** A count is a non-negative integer small enough to be exact in a double (≤ 2^53 − 1). */
function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Data the formulas cannot use: such a variant is reported with nulls and INVALID_INPUT. */
function isUsable(v: VariantStats): boolean {
  return (
    isCount(v.exposures) &&
    isCount(v.conversions) &&
    v.conversions <= v.exposures &&
    Number.isFinite(v.revenueSum) &&
    Number.isFinite(v.revenueSumSquares) &&
    v.revenueSumSquares >= 0
  );
}

function meanStats(v: VariantStats): MeanStats {
  return { n: v.exposures, sum: v.revenueSum, sumSquares: v.revenueSumSquares };
}

/** Flags about one arm's own data; for a treatment they are also raised by the control's data. */
function armFlags(v: VariantStats): StatsFlag[] {
  const flags: StatsFlag[] = [];
  if (v.exposures === 0) flags.push('NO_EXPOSURES');
  if (v.exposures > 0 && v.exposures < SMALL_SAMPLE_SIZE) flags.push('SMALL_SAMPLE');
  if (v.exposures === 1) flags.push('REVENUE_TOO_FEW_USERS');
  return flags;
}

/** The row with the arm's own figures and every comparison field null. */
function ownRow(v: VariantStats, flags: StatsFlag[]): VariantResult {
  const revenue = summarizeMean(meanStats(v));
  return {
    variant: v.name,
    exposures: v.exposures,
    conversions: v.conversions,
    conversion_rate: v.exposures > 0 ? v.conversions / v.exposures : null,
    abs_diff: null,
    abs_diff_ci: null,
    lift: null,
    lift_ci: null,
    z: null,
    p_value: null,
    p_value_holm: null,
    p_value_sequential: null,
    chance_to_beat_control: null,
    revenue: { mean: revenue.mean, variance: revenue.variance, t: null, p_value: null },
    flags: orderFlags(flags),
  };
}

function invalidRow(v: VariantStats): VariantResult {
  const finiteOrZero = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    ...ownRow({ ...v, exposures: 0, conversions: 0, revenueSum: 0, revenueSumSquares: 0 }, []),
    exposures: finiteOrZero(v.exposures),
    conversions: finiteOrZero(v.conversions),
    flags: ['INVALID_INPUT'],
  };
}

/** A treatment's row: its own figures plus every comparison with control (p_value_holm set later). */
function comparedRow(control: VariantStats, v: VariantStats, previousSequential: number | null): VariantResult {
  const c: ProportionStats = control;
  const t: ProportionStats = v;
  const flags = [...armFlags(control), ...armFlags(v)];
  const zTest = twoProportionZTest(c, t);
  const diff = absoluteDifference(c, t);
  const lift = relativeLift(c, t);
  const welch = welchTTest(meanStats(control), meanStats(v));
  const controlRevenue = summarizeMean(meanStats(control));
  const row = ownRow(v, []);

  const bothExposed = c.exposures > 0 && t.exposures > 0;
  if (bothExposed && c.conversions === 0 && t.conversions === 0) flags.push('ZERO_CONVERSIONS');
  if (bothExposed && c.conversions === c.exposures && t.conversions === t.exposures) flags.push('ALL_CONVERTED');
  if (c.exposures > 0 && c.conversions === 0) flags.push('CONTROL_ZERO_RATE');
  if ((diff && diff.ci[0] === diff.ci[1]) || (lift && lift.ci[0] === lift.ci[1])) flags.push('DEGENERATE_CI');
  if (controlRevenue.variance === 0 && row.revenue.variance === 0) flags.push('REVENUE_ZERO_VARIANCE');

  return {
    ...row,
    abs_diff: diff?.estimate ?? null,
    abs_diff_ci: diff?.ci ?? null,
    lift: lift?.estimate ?? null,
    lift_ci: lift?.ci ?? null,
    z: zTest?.z ?? null,
    p_value: zTest?.pValue ?? null,
    p_value_sequential: alwaysValidPValue(c, t, previousSequential),
    chance_to_beat_control: bothExposed ? chanceToBeatControl(c, t) : null,
    revenue: { ...row.revenue, t: welch?.t ?? null, p_value: welch?.pValue ?? null },
    flags: orderFlags(flags),
  };
}

/**
 * Results of one experiment, design §6–§7. `variantStats` order is kept in the output. Each
 * treatment is compared with the control named by `def.control`; p_value_holm adjusts the
 * treatments' z-test p-values together (Holm); p_value_sequential is the always-valid mSPRT
 * p-value, kept as a running minimum by passing the previous look's values in `previousSequential`
 * (it starts at 1, so it is never null on a treatment row when the control exists). srm_p_value
 * covers every usable variant, control included.
 */
export function computeExperimentResults(
  def: ExperimentStatsDefinition,
  variantStats: readonly VariantStats[],
  previousSequential: PreviousSequential = {},
): ExperimentResults {
  const usable = variantStats.map(isUsable);
  const controlIndex = variantStats.findIndex((v, i) => usable[i] && v.name === def.control);
  const control = controlIndex >= 0 ? variantStats[controlIndex] : null;
  const usableCount = usable.filter(Boolean).length;
  const srm = srmPValue(variantStats.filter((_, i) => usable[i]));

  const rows = variantStats.map((v, i) => {
    if (!usable[i]) return invalidRow(v);
    if (control === null || i === controlIndex) return ownRow(v, armFlags(v));
    // Own keys only: a variant named like an Object.prototype member must not pick that up.
    const previous = Object.hasOwn(previousSequential, v.name) ? (previousSequential[v.name] ?? null) : null;
    return comparedRow(control, v, previous);
  });
  const holm = holmAdjust(rows.map((row) => row.p_value));

  const flags: StatsFlag[] = [];
  if (control === null) flags.push('CONTROL_MISSING');
  if (usableCount < 2) flags.push('SINGLE_VARIANT');
  else if (srm === null) flags.push('SRM_UNDEFINED');
  return {
    control: def.control,
    srm_p_value: srm,
    variants: rows.map((row, i) => ({ ...row, p_value_holm: holm[i] })),
    flags: orderFlags(flags),
  };
}
