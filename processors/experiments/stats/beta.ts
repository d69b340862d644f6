// Bayesian chance to beat control, design §6: with Beta(1,1) priors the posteriors are
// p_c ~ Beta(1 + c_c, 1 + n_c − c_c) and p_t ~ Beta(1 + c_t, 1 + n_t − c_t), and the result is
// P(p_t > p_c), computed exactly (not by Monte Carlo) with Evan Miller's closed form for integer
// parameters ("Formulas for Bayesian A/B Testing", 2015):
//   P(X > Y) = Σ_{i=0}^{a_X−1} B(a_Y + i, b_X + b_Y) / ((b_X + i) · B(1 + i, b_X) · B(a_Y, b_Y)).
// Consecutive terms have the ratio (a_Y + i)(b_X + i) / ((a_Y + b_Y + b_X + i)(1 + i)), so only the
// first term needs log-Beta functions; the sum runs in log space, so huge counts neither underflow
// nor overflow. The sum has a_X terms; by the symmetries P(X > Y) = 1 − P(Y > X) and
// P(p_t > p_c) = P(1 − p_c > 1 − p_t) we sum over whichever of the four parameters is smallest, so
// the cost is O(min(conversions, non-conversions) + 1) over both arms. When even that minimum is
// above MAX_EXACT_TERMS (millions of users at mid-range rates) the same probability is integrated
// numerically instead, at bounded cost and the same accuracy (see probabilityByQuadrature).
import { gammaln } from 'simple-statistics';
import { regularizedBeta } from './distributions.ts';
import type { ProportionStats } from './z-test.ts';

/** Above this many terms the exact sum gives way to quadrature (about 3 ms of summing). */
const MAX_EXACT_TERMS = 100_000;
/** Trapezoid nodes per posterior standard deviation, and the half-width covered in deviations. */
const NODES_PER_SD = 8;
const HALF_WIDTH_SD = 12;

function logBeta(a: number, b: number): number {
  return gammaln(a) + gammaln(b) - gammaln(a + b);
}

function logAddExp(x: number, y: number): number {
  const max = Math.max(x, y);
  return max + Math.log1p(Math.exp(Math.min(x, y) - max));
}

/** P(X > Y) for X ~ Beta(aX, bX), Y ~ Beta(aY, bY) with integer aX ≥ 1 (Miller's sum). */
function probabilityXBeatsY(aX: number, bX: number, aY: number, bY: number): number {
  let logTerm = logBeta(aY, bX + bY) - logBeta(aY, bY);
  let logSum = logTerm;
  for (let i = 0; i < aX - 1; i++) {
    logTerm += Math.log(((aY + i) * (bX + i)) / ((aY + bY + bX + i) * (1 + i)));
    logSum = logAddExp(logSum, logTerm);
  }
  return Math.exp(logSum);
}

function betaMeanAndSd(a: number, b: number): { mean: number; sd: number } {
  const total = a + b;
  return { mean: a / total, sd: Math.sqrt((a * b) / (total * total * (total + 1))) };
}

/**
 * P(p_t > p_c) = ∫ f_c(x)·P(p_t > x) dx = ∫ f_t(y)·P(p_c < y) dy, integrated over the narrower
 * posterior (the other factor, a CDF, then varies no faster than the density) with the trapezoid
 * rule on mean ± 12 sd. Used only when every Beta parameter exceeds MAX_EXACT_TERMS: the posteriors
 * are then smooth near-normal bumps, on which the trapezoid rule converges geometrically, so at
 * 8 nodes per sd the discretization error is negligible. What remains is the rounding of log-Gamma
 * values near 1e7 (cancelling in log B): about 1e-8 at millions of users, against SciPy's quad.
 */
function probabilityByQuadrature(aC: number, bC: number, aT: number, bT: number): number {
  const control = betaMeanAndSd(aC, bC);
  const treatment = betaMeanAndSd(aT, bT);
  const controlNarrower = control.sd <= treatment.sd;
  const [a, b, narrow] = controlNarrower ? [aC, bC, control] : [aT, bT, treatment];
  const logNormalizer = logBeta(a, b);
  const step = narrow.sd / NODES_PER_SD;
  let sum = 0;
  for (let k = -HALF_WIDTH_SD * NODES_PER_SD; k <= HALF_WIDTH_SD * NODES_PER_SD; k++) {
    const x = narrow.mean + k * step;
    if (x <= 0 || x >= 1) continue;
    const density = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logNormalizer);
    // P(p_t > x) = I_{1−x}(b_t, a_t);  P(p_c < x) = I_x(a_c, b_c).
    sum += density * (controlNarrower ? regularizedBeta(bT, aT, 1 - x, x) : regularizedBeta(aC, bC, x, 1 - x));
  }
  return sum * step;
}

/**
 * P(p_t > p_c) under Beta(1,1) priors. Counts must be integers with 0 ≤ conversions ≤ exposures
 * (`results.ts` checks); zero exposures leave the prior, which gives 0.5.
 */
export function chanceToBeatControl(control: ProportionStats, treatment: ProportionStats): number {
  const aC = 1 + control.conversions;
  const bC = 1 + control.exposures - control.conversions;
  const aT = 1 + treatment.conversions;
  const bT = 1 + treatment.exposures - treatment.conversions;
  const fewest = Math.min(aT, aC, bC, bT);
  let probability: number;
  if (fewest > MAX_EXACT_TERMS) probability = probabilityByQuadrature(aC, bC, aT, bT);
  else if (fewest === aT) probability = probabilityXBeatsY(aT, bT, aC, bC);
  else if (fewest === aC) probability = 1 - probabilityXBeatsY(aC, bC, aT, bT);
  // p_t > p_c ⇔ q_c > q_t for q = 1 − p, and q ~ Beta(b, a).
  else if (fewest === bC) probability = probabilityXBeatsY(bC, aC, bT, aT);
  else probability = 1 - probabilityXBeatsY(bT, aT, bC, aC);
  return Math.min(1, Math.max(0, probability));
}
