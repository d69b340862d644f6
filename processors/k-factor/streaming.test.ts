// Streaming equals batch (issue 3): for many random event sets, fed in random order with random
// duplicates, batch cuts and crash-restarts (some after a partly sunk batch, then replayed), the
// final row of every key in kfactor_windows and cohort_windows equals the §5 batch computation
// (batch.ts) over the deduplicated set. Rows rewritten with zeros for windows that lost all their
// invitations or users are what readers drop (invites_sent > 0, cohort_size > 0), and the batch
// computation has no such windows, so they are compared as absent.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { KFACTOR_TABLE } from './compute.ts';
import { COHORT_TABLE } from '../cohorts/compute.ts';
import { referenceKFactorRows } from './batch.ts';
import { referenceCohortRows } from '../cohorts/batch.ts';
import { eventSetArb, feedPlanArb, keyOf, runStreaming } from './testing.ts';

const sorted = <T extends Record<string, unknown>>(rows: T[], table: string): T[] =>
  [...rows].sort((a, b) => (keyOf[table](a) < keyOf[table](b) ? -1 : keyOf[table](a) > keyOf[table](b) ? 1 : 0));

describe('k-factor and cohort processors: streaming equals batch (§4, §5)', () => {
  it('give the batch rows for any arrival order, duplicates, batch cuts and restarts', () => {
    const scenario = eventSetArb.chain((events) => feedPlanArb(events).map((plan) => ({ events, plan })));
    fc.assert(
      fc.property(scenario, ({ events, plan }) => {
        const tables = runStreaming(plan);
        const kfactor = [...(tables.get(KFACTOR_TABLE)?.values() ?? [])].filter((r) => r.invites_sent !== 0);
        const cohorts = [...(tables.get(COHORT_TABLE)?.values() ?? [])].filter((r) => r.cohort_size !== 0);
        expect(sorted(kfactor, KFACTOR_TABLE)).toEqual(sorted(referenceKFactorRows(events), KFACTOR_TABLE));
        expect(sorted(cohorts, COHORT_TABLE)).toEqual(sorted(referenceCohortRows(events), COHORT_TABLE));
      }),
      { numRuns: 15000, seed: 20250101 },
    );
  }, 60_000);
});
