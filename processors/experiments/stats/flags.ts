// Every data condition the statistics module reports, in one table (the shape of growthbook gbstats
// `messages.py`). Results carry the codes (the keys); the texts document what the code means and
// which value the affected fields take. Design §6: edge cases give defined values and flags, never
// NaN or a crash. The table order is the order in which codes appear in a result.
export const STATS_FLAGS = {
  CONTROL_MISSING: 'the control variant is absent (or invalid); every comparison field is null',
  SINGLE_VARIANT: 'fewer than two usable variants: nothing to compare, srm_p_value is null',
  INVALID_INPUT:
    'counts that are not integers in [0, 2^53), conversions above exposures, or a negative sum of squares: the variant is left out of all statistics',
  NO_EXPOSURES:
    'this arm or the control has zero exposures: the empty arm\'s rate and revenue, and every test, CI and chance to beat control, are null; p_value_sequential keeps its previous value (1 at first)',
  SMALL_SAMPLE: 'this arm or the control has fewer than 30 exposures: normal approximations are rough',
  ZERO_CONVERSIONS: 'no conversions in this arm nor in the control: pooled variance is 0, so z = 0 and p_value = 1',
  ALL_CONVERTED: 'every exposed user converted in this arm and in the control: pooled variance is 0, so z = 0 and p_value = 1',
  CONTROL_ZERO_RATE: 'the control conversion rate is 0: lift and lift_ci are null',
  DEGENERATE_CI: 'the standard error of the interval is 0 (every rate at 0% or 100%): the interval collapses to the point estimate',
  REVENUE_TOO_FEW_USERS: 'this arm or the control has fewer than 2 users: revenue variance (for that arm), t and p_value are null',
  REVENUE_ZERO_VARIANCE:
    'revenue variance is 0 in this arm and in the control: t = 0 and p_value = 1 when the means are equal, both null otherwise',
  SRM_UNDEFINED: 'no exposures at all or a non-positive weight: srm_p_value is null',
} as const;

export type StatsFlag = keyof typeof STATS_FLAGS;

const FLAG_ORDER = Object.keys(STATS_FLAGS) as StatsFlag[];

/** Deduplicate and order flags by the table above, so equal data always gives equal output. */
export function orderFlags(flags: Iterable<StatsFlag>): StatsFlag[] {
  const present = new Set(flags);
  return FLAG_ORDER.filter((flag) => present.has(flag));
}
