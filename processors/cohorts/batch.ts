// Reference batch computation of the §5 cohort viral coefficient over a whole event set, separate
// from the streaming processor, for the "streaming equals batch" property test. Not used at run time.
import type { ViralEvent } from '../../core/events/types.ts';
import { GRANULARITIES, windowStart, type Granularity } from '../../core/time.ts';
import { referenceGraph } from '../k-factor/batch.ts';
import type { CohortRow } from './compute.ts';

/** The reference computes the same rows as the processor, without its upsert version. */
export type CohortRefRow = Omit<CohortRow, 'version'>;

/** §5 cohort rows of every sign-up window that has at least one user. */
export function referenceCohortRows(events: readonly ViralEvent[]): CohortRefRow[] {
  const { nodes } = referenceGraph(events);
  const rows = new Map<string, CohortRefRow>();
  const cohortOf = (app: string, signupAt: number, granularity: Granularity): CohortRefRow => {
    const start = windowStart(signupAt, granularity) / 1000;
    const key = [app, granularity, start].join('\u0000');
    let row = rows.get(key);
    if (!row) {
      row = { app_id: app, granularity, window_start: start, cohort_size: 0, referred_signups: 0, cohort_k: 0 };
      rows.set(key, row);
    }
    return row;
  };
  for (const n of nodes.values()) {
    for (const granularity of GRANULARITIES) {
      cohortOf(n.app_id, n.signup_at, granularity).cohort_size += 1;
      if (n.status !== 'accepted') continue;
      const referrer = nodes.get(n.app_id + '\u0000' + n.referrer_id);
      if (referrer) cohortOf(n.app_id, referrer.signup_at, granularity).referred_signups += 1;
    }
  }
  for (const row of rows.values()) row.cohort_k = row.referred_signups / row.cohort_size;
  return [...rows.values()];
}
