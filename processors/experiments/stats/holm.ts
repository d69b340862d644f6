// Holm's step-down adjustment, design §6: with several treatments each compared with control, the
// family-wise error stays at α (statsmodels `multipletests(method='holm')`).

/**
 * Adjusted p-values in input order: sort the m tested p-values ascending,
 * p̃_(j) = max_{i ≤ j} min(1, (m − i + 1)·p_(i)). Nulls (comparisons that could not be run) are not
 * tests: they stay null and do not count in m. Ties keep input order, so the output is deterministic.
 */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues
    .map((p, index) => ({ p, index }))
    .filter((entry): entry is { p: number; index: number } => entry.p !== null)
    .sort((x, y) => x.p - y.p || x.index - y.index);
  const adjusted: (number | null)[] = pValues.map(() => null);
  let runningMax = 0;
  tested.forEach(({ p, index }, rank) => {
    runningMax = Math.max(runningMax, Math.min(1, (tested.length - rank) * p));
    adjusted[index] = runningMax;
  });
  return adjusted;
}
