// SQL on the experiment statistics and results tables (sql/migrations/0401, 0402), shared by the
// results job (processors/experiments) and the results route (api). Pure builders; values reach
// SQL only through core/clickhouse/sql.ts (design §2). Latest versions via argMax: merges of
// ReplacingMergeTree are eventual (design §4).
import { join, raw, sql, str, type Sql } from '../clickhouse/sql.ts';

export interface ExperimentKey {
  app_id: string;
  experiment_id: string;
}

/** `WHERE (app_id = … AND experiment_id = …) OR …`, or nothing for every experiment. */
function keyFilter(keys?: readonly ExperimentKey[]): Sql {
  if (keys === undefined) return raw('');
  if (keys.length === 0) return raw('WHERE 0');
  return sql`WHERE ${join(
    keys.map((k) => sql`(app_id = ${str(k.app_id)} AND experiment_id = ${str(k.experiment_id)})`),
    ' OR ',
  )}`;
}

/** One row per (app, experiment, variant) as the counting processor last wrote it. */
export interface VariantStatsRow extends ExperimentKey {
  variant: string;
  exposures: number | string;
  conversions_signup: number | string;
  conversions_invite_sent: number | string;
  conversions_invite_accepted: number | string;
  conversions_purchase: number | string;
  revenue_sum: number;
  revenue_sum_sq: number;
  multi_exposure_users: number | string;
  /** max(version): named apart from the column, which an alias would replace inside argMax on 18.16. */
  latest_version: number | string;
}

export function variantStatsQuery(keys?: readonly ExperimentKey[]): Sql {
  return sql`SELECT app_id, experiment_id, variant,
  argMax(exposures, version) AS exposures,
  argMax(conversions_signup, version) AS conversions_signup,
  argMax(conversions_invite_sent, version) AS conversions_invite_sent,
  argMax(conversions_invite_accepted, version) AS conversions_invite_accepted,
  argMax(conversions_purchase, version) AS conversions_purchase,
  argMax(revenue_sum, version) AS revenue_sum,
  argMax(revenue_sum_sq, version) AS revenue_sum_sq,
  argMax(multi_exposure_users, version) AS multi_exposure_users,
  max(version) AS latest_version
FROM viral.experiment_variant_stats ${keyFilter(keys)}
GROUP BY app_id, experiment_id, variant
ORDER BY app_id, experiment_id, variant`;
}

export interface ResultRow extends ExperimentKey {
  /** The results document (JSON) of the latest look. */
  result: string;
  computed_at: number | string;
}

/** The latest stored result of each experiment. */
export function latestResultsQuery(keys?: readonly ExperimentKey[]): Sql {
  return sql`SELECT app_id, experiment_id, argMax(result, version) AS result, toUInt32(argMax(computed_at, version)) AS computed_at
FROM viral.experiment_results ${keyFilter(keys)}
GROUP BY app_id, experiment_id`;
}
