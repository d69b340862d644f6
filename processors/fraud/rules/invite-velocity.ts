// invite_velocity (design §5): "a user sends more than 50 invitations within any 1-hour span, and
// that count is more than 3 standard deviations above the population mean of hourly invitation
// counts".
//
// Population hourly counts, precisely: for each (user, UTC clock hour) in which the user sent at
// least one invitation, the number of distinct invite_ids the user sent in that hour (each
// invitation at the time of its earliest invite_sent). Hours without invitations are not cells:
// counting them would let idle users drag the mean to ~0 and flag ordinary enthusiastic senders.
// Mean and SD are the population (not sample) moments over those cells, computed by
// simple-statistics from a histogram count → number of cells, which the processor keeps
// incrementally. The burst user's own cells are part of the population, as §5 says "population".
//
// Identity: the invitation that closed the first 1-hour span whose count exceeded
// max(50, mean + 3 SD) — for any realistic population the 50 dominates, so this is the
// (threshold + 1)-th invitation of the first span above 50, a function of the user's own events.
import { weightedMean, weightedStandardDeviation } from 'simple-statistics';
import type { FraudConfig } from '../config.ts';
import { type Detection, type Stamp, iso } from '../types.ts';
import { firstCrossing } from '../window.ts';

export interface PopulationStats {
  /** Number of (user, UTC hour) cells with at least one invitation. */
  cells: number;
  mean: number;
  sd: number;
}

/** §5 population statistics from a histogram {hourly count → number of cells}; zeros when empty. */
export function populationStats(histogram: ReadonlyMap<number, number>): PopulationStats {
  const counts: number[] = [];
  const cells: number[] = [];
  for (const [count, n] of histogram) {
    if (n > 0) {
      counts.push(count);
      cells.push(n);
    }
  }
  if (counts.length === 0) return { cells: 0, mean: 0, sd: 0 };
  return {
    cells: cells.reduce((a, b) => a + b, 0),
    mean: weightedMean(counts, cells),
    sd: weightedStandardDeviation(counts, cells),
  };
}

/** Invitation count a span must exceed: both §5 conditions at once. */
export function velocityLimit(population: PopulationStats, cfg: FraudConfig): number {
  return Math.max(cfg.velocityMaxInvites, population.mean + cfg.velocitySdMultiplier * population.sd);
}

/**
 * invite_velocity for one user, or null. `invites` are the user's distinct invitations sorted by
 * compareStamps. The statistics are the population's at evaluation time (recorded in evidence).
 */
export function inviteVelocity(
  userId: string,
  invites: readonly Stamp[],
  population: PopulationStats,
  cfg: FraudConfig,
): Detection | null {
  const limit = velocityLimit(population, cfg);
  const w = firstCrossing(invites, cfg.velocitySpanMs, limit);
  if (!w) return null;
  const closing = invites[w.end];
  return {
    user_id: userId,
    signal: 'invite_velocity',
    event_id: closing.event_id,
    at: closing.at,
    evidence: {
      invitations: w.hi - w.lo + 1,
      span_start: iso(invites[w.lo].at),
      span_end: iso(closing.at),
      max_invites: cfg.velocityMaxInvites,
      population: {
        cells: population.cells,
        mean: population.mean,
        sd: population.sd,
        limit: population.mean + cfg.velocitySdMultiplier * population.sd,
      },
    },
  };
}
