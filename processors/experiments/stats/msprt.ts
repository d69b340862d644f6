// Always-valid (sequential) p-value for the difference of two conversion rates, design §6, so an
// owner can look at results every day without inflating false positives. This is the mixture
// sequential probability ratio test (mSPRT) of Johari, Koomen, Pekelis & Walsh, "Always Valid
// Inference: Continuous Monitoring of A/B Tests" (Operations Research 2022; KDD 2017 "Peeking at
// A/B tests"), with a normal mixing distribution N(0, τ²) over the true difference θ:
//   θ̂ = p_t − p_c ~ N(θ, V),   Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²))).
// V is the pooled-rate variance p̂(1 − p̂)(1/n_c + 1/n_t) — the variance under H0: θ = 0, the same
// standard error as the z-test. Under H0 Λ is (in the normal approximation) a non-negative
// martingale with mean 1, so by Ville's inequality P(Λ ever ≥ 1/α) ≤ α, and
// p_n = min(p_{n−1}, 1/Λ_n) is valid at every look. The caller keeps the running minimum by passing
// the previous look's p (results.ts: `previousSequential`); counts must be cumulative since start.
import type { ProportionStats } from './z-test.ts';

/**
 * Mixing variance τ² of the mSPRT: τ = 0.01, a one-percentage-point difference in conversion rate.
 * The error guarantee holds for any τ fixed in advance; τ only decides which effects are found
 * fastest (Johari et al. advise matching τ to the effect sizes experiments typically have). Our
 * goal rates (invite acceptance, sign-up, purchase) sit around 5–30%, where product changes move
 * them by about a point; a much smaller τ makes large effects slow to confirm, a much larger τ
 * wastes power on the small effects that are the common case. It must not be derived from the
 * data of the experiment itself (that would break the martingale argument).
 */
export const MSPRT_TAU2 = 1e-4;

/**
 * log Λ for H0: p_t = p_c after the data seen so far. Null when an arm has no exposures or the
 * pooled rate is 0 or 1 (V = 0: the data carry no evidence yet).
 */
export function msprtLogLikelihoodRatio(
  control: ProportionStats,
  treatment: ProportionStats,
  tau2: number = MSPRT_TAU2,
): number | null {
  if (control.exposures <= 0 || treatment.exposures <= 0) return null;
  const pooled = (control.conversions + treatment.conversions) / (control.exposures + treatment.exposures);
  const variance = pooled * (1 - pooled) * (1 / control.exposures + 1 / treatment.exposures);
  if (!(variance > 0)) return null;
  const diff = treatment.conversions / treatment.exposures - control.conversions / control.exposures;
  return 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * diff * diff) / (2 * variance * (variance + tau2));
}

/**
 * Always-valid p-value at this look: min(previous, 1/Λ), starting from 1 (so it is also
 * min(1, 1/Λ) on the first look) and never increasing across looks. A previous value that is not a
 * probability is ignored. When Λ is undefined (see above) the previous value carries over.
 * Computed as exp(−log Λ), so a huge Λ gives 0, never Infinity.
 */
export function alwaysValidPValue(
  control: ProportionStats,
  treatment: ProportionStats,
  previous: number | null = null,
  tau2: number = MSPRT_TAU2,
): number {
  const prior = previous !== null && previous >= 0 && previous <= 1 ? previous : 1;
  const logLambda = msprtLogLikelihoodRatio(control, treatment, tau2);
  return logLambda === null ? prior : Math.min(prior, Math.exp(-logLambda));
}
