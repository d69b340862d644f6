// The document of `GET /v1/experiments/:id/results` (design §7) from a definition and the latest
// variant statistics (design §6), computed by the statistics module (./stats). Pure.
import type { StoredExperiment } from '../../core/experiments/store.ts';
import type { VariantStatsRow } from '../../core/experiments/queries.ts';
import { computeExperimentResults, type PreviousSequential, type StatsFlag, type VariantResult } from './stats/index.ts';

/** §7 fields, plus `computed_at` (RFC 3339) and the statistics module's `flags`. */
export interface ExperimentResultDocument {
  experiment_id: string;
  control: string;
  srm_p_value: number | null;
  multi_exposure_users: number;
  variants: VariantResult[];
  flags: StatsFlag[];
  computed_at: string;
}

/** What the previous look left: its document and when it was computed (epoch ms). */
export interface PreviousResult {
  document: ExperimentResultDocument;
  computedAt: number;
}

/**
 * Results of one experiment. Variants are those of the definition, in its order (exposures to a
 * variant the definition does not name are counted by the processor but not reported); a variant
 * without statistics yet has zero counts. `conversions` are the conversions of the goal event;
 * revenue is always reported (per exposed user, non-buyers count 0). The previous look's
 * always-valid p-values continue the running minimum (design §6 mSPRT), unless the definition was
 * saved at or after that look: then the goal or control may have changed and the minimum restarts.
 */
export function buildExperimentResult(
  experiment: StoredExperiment,
  rows: readonly VariantStatsRow[],
  previous: PreviousResult | undefined,
  computedAt: number,
): ExperimentResultDocument {
  const def = experiment.definition;
  const byVariant = new Map(rows.map((r) => [r.variant, r]));
  const conversionsColumn = `conversions_${def.goal.event}` as const;
  const stats = def.variants.map((v) => {
    const r = byVariant.get(v.name);
    return {
      name: v.name,
      weight: v.weight,
      exposures: Number(r?.exposures ?? 0),
      conversions: Number(r?.[conversionsColumn] ?? 0),
      revenueSum: Number(r?.revenue_sum ?? 0),
      revenueSumSquares: Number(r?.revenue_sum_sq ?? 0),
    };
  });
  // Every row of one write carries the experiment's count; the newest row has the newest count.
  const newest = rows.reduce<VariantStatsRow | undefined>((a, r) => (!a || Number(r.latest_version) > Number(a.latest_version) ? r : a), undefined);

  const previousSequential: Record<string, number | null> = {};
  if (previous && previous.computedAt > experiment.updated_at) {
    for (const v of previous.document.variants) previousSequential[v.variant] = v.p_value_sequential;
  }
  const results = computeExperimentResults({ control: def.control }, stats, previousSequential as PreviousSequential);
  return {
    experiment_id: experiment.experiment_id,
    control: results.control,
    srm_p_value: results.srm_p_value,
    multi_exposure_users: Number(newest?.multi_exposure_users ?? 0),
    variants: results.variants,
    flags: results.flags,
    computed_at: new Date(Math.floor(computedAt / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
  };
}

/** True when two documents are equal apart from their computation time (nothing new to write). */
export function sameResult(a: ExperimentResultDocument, b: ExperimentResultDocument): boolean {
  return JSON.stringify({ ...a, computed_at: '' }) === JSON.stringify({ ...b, computed_at: '' });
}
