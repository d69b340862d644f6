// Sample-ratio mismatch check, design §6: Pearson's chi-square goodness of fit of the observed
// exposures against the split the configured weights promise (SciPy's `chisquare(obs, f_exp)`).
// A tiny p-value means assignment or exposure logging is broken, and the comparison is suspect.
import { chiSquareSf } from './distributions.ts';

export interface SrmGroup {
  exposures: number;
  weight: number;
}

/**
 * p-value of χ² = Σ (O_i − E_i)²/E_i with E_i = N·w_i/Σw, df = k − 1. Null when there are fewer
 * than two groups, no exposures at all, or a weight that is not a positive finite number (the
 * expected counts would be undefined).
 */
export function srmPValue(groups: readonly SrmGroup[]): number | null {
  if (groups.length < 2) return null;
  if (!groups.every((g) => Number.isFinite(g.weight) && g.weight > 0)) return null;
  const total = groups.reduce((acc, g) => acc + g.exposures, 0);
  if (!(total > 0)) return null;
  const totalWeight = groups.reduce((acc, g) => acc + g.weight, 0);
  // Shares first, so extreme weights cannot overflow N·w; a share that underflows to 0 is a weight
  // of 0 for every practical purpose.
  const shares = groups.map((g) => g.weight / totalWeight);
  if (!shares.every((share) => share > 0)) return null;
  const chiSquare = groups.reduce((acc, g, i) => {
    const expected = total * shares[i];
    return acc + (g.exposures - expected) ** 2 / expected;
  }, 0);
  return chiSquareSf(chiSquare, groups.length - 1);
}
