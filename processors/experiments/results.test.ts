// The results document (design §7) from stored statistics: which columns feed the statistics
// module, and how the always-valid p-value continues across looks.
import { describe, expect, it } from 'vitest';
import type { VariantStatsRow } from '../../core/experiments/queries.ts';
import type { StoredExperiment } from '../../core/experiments/store.ts';
import type { ExperimentDefinition } from '../../core/experiments/definition.ts';
import { buildExperimentResult, sameResult } from './results.ts';
import { computeExperimentResults } from './stats/index.ts';

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

function makeExperiment(goal: ExperimentDefinition['goal'] = { kind: 'conversion', event: 'invite_accepted' }, updatedAt = T0 - 3_600_000): StoredExperiment {
  return {
    app_id: 'app',
    experiment_id: 'x',
    definition: { variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 30 }, { name: 'c', weight: 20 }], control: 'control', goal },
    updated_at: updatedAt,
    version: 1,
  };
}

function makeRow(variant: string, n: number, version: number, multi = 0): VariantStatsRow {
  // Distinct figures per column, so a test sees which column was used.
  return {
    app_id: 'app',
    experiment_id: 'x',
    variant,
    exposures: String(n),
    conversions_signup: String(Math.floor(n / 2)),
    conversions_invite_sent: String(Math.floor(n / 3)),
    conversions_invite_accepted: String(Math.floor(n / 4)),
    conversions_purchase: String(Math.floor(n / 5)),
    revenue_sum: n * 1.5,
    revenue_sum_sq: n * 4,
    multi_exposure_users: String(multi),
    latest_version: String(version),
  };
}

const rows = [makeRow('control', 1000, 5, 7), makeRow('b', 600, 9, 11), makeRow('stray', 50, 9, 11)];

describe('buildExperimentResult', () => {
  it.each([
    { event: 'signup' as const, column: 'conversions_signup' as const },
    { event: 'invite_sent' as const, column: 'conversions_invite_sent' as const },
    { event: 'invite_accepted' as const, column: 'conversions_invite_accepted' as const },
    { event: 'purchase' as const, column: 'conversions_purchase' as const },
  ])('feeds the $event conversions, the revenue sums and the weights to the statistics', ({ event, column }) => {
    const doc = buildExperimentResult(makeExperiment({ kind: 'conversion', event }), rows, undefined, T0);
    const expected = computeExperimentResults({ control: 'control' }, [
      { name: 'control', weight: 50, exposures: 1000, conversions: Number(rows[0][column]), revenueSum: 1500, revenueSumSquares: 4000 },
      { name: 'b', weight: 30, exposures: 600, conversions: Number(rows[1][column]), revenueSum: 900, revenueSumSquares: 2400 },
      // c has no statistics row yet: zero counts. The stray variant is not in the definition.
      { name: 'c', weight: 20, exposures: 0, conversions: 0, revenueSum: 0, revenueSumSquares: 0 },
    ]);
    expect(doc).toEqual({
      experiment_id: 'x',
      control: 'control',
      srm_p_value: expected.srm_p_value,
      // From the newest row (version 9).
      multi_exposure_users: 11,
      variants: expected.variants,
      flags: expected.flags,
      computed_at: '2026-01-10T12:00:00Z',
    });
    expect(doc.variants.map((v) => [v.variant, v.exposures, v.conversions])).toEqual([
      ['control', 1000, Number(rows[0][column])],
      ['b', 600, Number(rows[1][column])],
      ['c', 0, 0],
    ]);
  });

  // invite_accepted: control 25% of 1,000; b 35% of 600 (strong evidence), later 27.5% (weak).
  const strong = [makeRow('control', 1000, 5), { ...makeRow('b', 600, 5), conversions_invite_accepted: '210' }];
  const weaker = [makeRow('control', 1000, 12), { ...makeRow('b', 600, 12), conversions_invite_accepted: '165' }];

  it('continues the always-valid p-value as a running minimum from the previous look', () => {
    const first = buildExperimentResult(makeExperiment(), strong, undefined, T0);
    const seqB = first.variants[1].p_value_sequential!;
    expect(seqB).toBeGreaterThan(0);
    expect(seqB).toBeLessThan(1);
    // A later look on data with less evidence keeps the earlier, smaller value.
    const alone = buildExperimentResult(makeExperiment(), weaker, undefined, T0 + 60_000).variants[1].p_value_sequential!;
    expect(alone).toBeGreaterThan(seqB);
    const next = buildExperimentResult(makeExperiment(), weaker, { document: first, computedAt: T0 }, T0 + 60_000);
    expect(next.variants[1].p_value_sequential).toBe(seqB);
  });

  it('restarts the running minimum when the definition was saved at or after the previous look', () => {
    const first = buildExperimentResult(makeExperiment(), strong, undefined, T0);
    const changed = makeExperiment({ kind: 'conversion', event: 'invite_accepted' }, T0);
    const next = buildExperimentResult(changed, weaker, { document: first, computedAt: T0 }, T0 + 60_000);
    expect(next.variants[1].p_value_sequential).toBe(buildExperimentResult(changed, weaker, undefined, T0 + 60_000).variants[1].p_value_sequential);
    expect(next.variants[1].p_value_sequential).toBeGreaterThan(first.variants[1].p_value_sequential!);
  });

  it('gives defined values (no NaN) for an experiment without any statistics', () => {
    const doc = buildExperimentResult(makeExperiment(), [], undefined, T0);
    expect(doc.multi_exposure_users).toBe(0);
    expect(doc.variants.map((v) => v.exposures)).toEqual([0, 0, 0]);
    expect(JSON.stringify(doc)).not.toMatch(/NaN|Infinity/);
    expect(doc.flags).toContain('SRM_UNDEFINED');
  });

  it('is deterministic, and sameResult ignores only computed_at', () => {
    const a = buildExperimentResult(makeExperiment(), rows, undefined, T0);
    const b = buildExperimentResult(makeExperiment(), rows, undefined, T0 + 60_000);
    expect(sameResult(a, b)).toBe(true);
    expect(a).toEqual(buildExperimentResult(makeExperiment(), rows, undefined, T0));
    const c = buildExperimentResult(makeExperiment(), [makeRow('control', 1001, 5), rows[1]], undefined, T0);
    expect(sameResult(a, c)).toBe(false);
  });
});
