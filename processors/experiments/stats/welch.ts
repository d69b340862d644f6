// Revenue (mean-goal) comparison, design §6: Welch's unequal-variance t-test computed from the
// per-user sufficient statistics the counting processor keeps (conventions §6): n users, the sum
// of their revenue and the sum of its squares (non-buyers count with revenue 0).
import { studentTTwoSidedP } from './distributions.ts';

export interface MeanStats {
  n: number;
  sum: number;
  sumSquares: number;
}

export interface MeanSummary {
  /** sum/n; null when n = 0. */
  mean: number | null;
  /** Unbiased sample variance (n − 1 denominator); null when n < 2. */
  variance: number | null;
}

export interface WelchTest {
  t: number;
  pValue: number;
}

/**
 * Mean and sample variance from sufficient statistics. The variance is
 * (Σx² − (Σx)²/n)/(n − 1); rounding can push that a hair below 0 when all values are equal, so it
 * is clamped at 0.
 */
export function summarizeMean(stats: MeanStats): MeanSummary {
  if (stats.n <= 0) return { mean: null, variance: null };
  const mean = stats.sum / stats.n;
  if (stats.n < 2) return { mean, variance: null };
  return { mean, variance: Math.max(0, (stats.sumSquares - stats.sum * mean) / (stats.n - 1)) };
}

/**
 * Welch's two-sided t-test of mean(treatment) − mean(control): t = Δ / sqrt(s_c²/n_c + s_t²/n_t),
 * p from Student t with the Welch–Satterthwaite degrees of freedom
 * (s_c²/n_c + s_t²/n_t)² / ((s_c²/n_c)²/(n_c − 1) + (s_t²/n_t)²/(n_t − 1)), which is not an integer.
 * Null when an arm has fewer than 2 users. With zero variance in both arms: equal means give
 * t = 0, p = 1 (no evidence of a difference); different means have no finite t, so null.
 */
export function welchTTest(control: MeanStats, treatment: MeanStats): WelchTest | null {
  const c = summarizeMean(control);
  const t = summarizeMean(treatment);
  if (c.mean === null || c.variance === null || t.mean === null || t.variance === null) return null;
  const vc = c.variance / control.n;
  const vt = t.variance / treatment.n;
  const se2 = vc + vt;
  const diff = t.mean - c.mean;
  if (!(se2 > 0)) return diff === 0 ? { t: 0, pValue: 1 } : null;
  const tStat = diff / Math.sqrt(se2);
  // A variance that is all but 0 can still overflow t: no finite t, as in the zero-variance case.
  if (!Number.isFinite(tStat)) return null;
  // Welch–Satterthwaite written with the shares w = v/se² (which sum to 1), so tiny variances
  // cannot underflow into 0/0.
  const wc = vc / se2;
  const wt = vt / se2;
  const df = 1 / ((wc * wc) / (control.n - 1) + (wt * wt) / (treatment.n - 1));
  return { t: tStat, pValue: studentTTwoSidedP(tStat, df) };
}
