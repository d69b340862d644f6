// Conversion-rate comparison of one treatment against control (design §6): the two-proportion
// z-test with pooled standard error, and 95% Wald intervals of the absolute difference (unpooled
// standard error) and of the relative lift (delta method). Inputs are sufficient statistics
// (conventions §6): exposures n and conversions c per arm. Every function returns null when a rate
// is undefined (an arm has no exposures) instead of NaN; `results.ts` attaches the flags.
import { normalTwoSidedP, Z_975 } from './distributions.ts';

export interface ProportionStats {
  exposures: number;
  conversions: number;
}

export interface ZTest {
  z: number;
  pValue: number;
}

export interface Estimate {
  estimate: number;
  ci: [number, number];
}

function rate(arm: ProportionStats): number {
  return arm.conversions / arm.exposures;
}

/** Binomial variance of the estimated rate, p(1 − p)/n (unpooled). */
function rateVariance(arm: ProportionStats): number {
  const p = rate(arm);
  return (p * (1 - p)) / arm.exposures;
}

function interval(estimate: number, variance: number): Estimate {
  const halfWidth = Z_975 * Math.sqrt(variance);
  return { estimate, ci: [estimate - halfWidth, estimate + halfWidth] };
}

/**
 * Two-sided two-proportion z-test, §6: z = (p_t − p_c) / sqrt(p̂(1 − p̂)(1/n_c + 1/n_t)) with the
 * pooled rate p̂ = (c_c + c_t)/(n_c + n_t). A pooled rate of 0 or 1 means both arms are identical
 * (no conversions, or everyone converted): z = 0 and p = 1, as gbstats' default output does.
 * Null when an arm has no exposures.
 */
export function twoProportionZTest(control: ProportionStats, treatment: ProportionStats): ZTest | null {
  if (control.exposures <= 0 || treatment.exposures <= 0) return null;
  const pooled = (control.conversions + treatment.conversions) / (control.exposures + treatment.exposures);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / control.exposures + 1 / treatment.exposures));
  if (!(se > 0)) return { z: 0, pValue: 1 };
  const z = (rate(treatment) - rate(control)) / se;
  return { z, pValue: normalTwoSidedP(z) };
}

/**
 * Absolute difference p_t − p_c with its 95% Wald interval on the unpooled standard error
 * sqrt(p_c(1 − p_c)/n_c + p_t(1 − p_t)/n_t), §6. When every rate is 0% or 100% that error is 0 and
 * the interval is the point. Null when an arm has no exposures.
 */
export function absoluteDifference(control: ProportionStats, treatment: ProportionStats): Estimate | null {
  if (control.exposures <= 0 || treatment.exposures <= 0) return null;
  return interval(rate(treatment) - rate(control), rateVariance(control) + rateVariance(treatment));
}

/**
 * Relative lift p_t/p_c − 1 with its 95% interval by the delta method, §6:
 * Var ≈ Var(p_t)/p_c² + p_t²·Var(p_c)/p_c⁴ (the first-order expansion of the ratio, arms
 * independent; the same approximation gbstats uses for relative effects). Null when an arm has no
 * exposures or the control rate is 0 (the ratio is undefined).
 */
export function relativeLift(control: ProportionStats, treatment: ProportionStats): Estimate | null {
  if (control.exposures <= 0 || treatment.exposures <= 0 || control.conversions <= 0) return null;
  const pc = rate(control);
  const pt = rate(treatment);
  const variance = rateVariance(treatment) / (pc * pc) + (pt * pt * rateVariance(control)) / pc ** 4;
  return interval(pt / pc - 1, variance);
}
