// Experiments (design §6, §9): per-variant results with CIs and significance, read from the
// results job's document in viral.experiment_results (the JSON of GET /v1/experiments/:id/results,
// design §7), plus the counts behind it and exposures over time.
//
// The verdict text is computed in SQL so the table says it plainly:
// - "SRM detected" when the sample-ratio-mismatch p-value is below 0.001 (the design sets no
//   threshold; 0.001 is the usual one, since SRM is checked continuously and a false alarm stops an
//   experiment): the assignment is broken and no other number of the experiment can be trusted;
// - conversion goals: significant when BOTH the always-valid (mSPRT) p-value and the
//   Holm-adjusted p-value are below 0.05 — a dashboard is looked at any time, and the always-valid
//   p-value is the one that stays valid under peeking (design §6), Holm keeps several treatment
//   variants from inflating false positives; otherwise "not yet significant";
// - revenue goals: the Welch t-test p-value below 0.05 (the only revenue test in the document).
import type { DashboardSpec, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP, jsonNumber, jsonPairBound, timeBucket } from '../lib/sql-fragments.ts';

export const SRM_ALPHA = 0.001;
export const ALPHA = 0.05;

/** The verdicts the results table can show. */
export const VERDICTS = {
  srm: 'SRM detected: assignment is broken, do not trust these results',
  control: 'control',
  noData: 'not enough data',
  better: 'significant: better than control',
  worse: 'significant: worse than control',
  notYet: 'not yet significant',
} as const;

/** Latest results document and definition of the selected experiment. */
const DOCUMENT = `SELECT doc, definition
  FROM (
    SELECT experiment_id, argMax(result, version) AS doc
    FROM viral.experiment_results
    WHERE ${APP} AND experiment_id = '\${experiment}'
    GROUP BY app_id, experiment_id
  ) ANY LEFT JOIN (
    SELECT experiment_id, argMax(definition, version) AS definition
    FROM viral.experiments
    WHERE ${APP} AND experiment_id = '\${experiment}'
    GROUP BY app_id, experiment_id
  ) USING experiment_id`;

/**
 * One row per variant of the document: the `variants` array split at each object's first key
 * (18.16 has no JSON array functions; `"variant":` opens every variant object and variant names
 * are identifiers). `v` is then one variant's object, where the top-level keys come before the
 * nested revenue object, so visitParam finds the variant's own `p_value` first.
 */
const VARIANTS = `SELECT
    visitParamExtractString(doc, 'control') AS control,
    ${jsonNumber('doc', 'srm_p_value')} AS srm_p_value,
    visitParamExtractString(definition, 'kind') AS goal_kind,
    concat('{"variant":', part) AS v,
    visitParamExtractRaw(v, 'revenue') AS revenue,
    visitParamExtractString(v, 'variant') AS variant,
    visitParamExtractUInt(v, 'exposures') AS exposures,
    visitParamExtractUInt(v, 'conversions') AS conversions,
    ${jsonNumber('v', 'conversion_rate')} AS conversion_rate,
    ${jsonNumber('v', 'abs_diff')} AS abs_diff,
    ${jsonPairBound('v', 'abs_diff_ci', 1)} AS abs_diff_ci_low,
    ${jsonPairBound('v', 'abs_diff_ci', 2)} AS abs_diff_ci_high,
    ${jsonNumber('v', 'lift')} AS lift,
    ${jsonPairBound('v', 'lift_ci', 1)} AS lift_ci_low,
    ${jsonPairBound('v', 'lift_ci', 2)} AS lift_ci_high,
    ${jsonNumber('v', 'z')} AS z,
    ${jsonNumber('v', 'p_value')} AS p_value,
    ${jsonNumber('v', 'p_value_holm')} AS p_value_holm,
    ${jsonNumber('v', 'p_value_sequential')} AS p_value_sequential,
    ${jsonNumber('v', 'chance_to_beat_control')} AS chance_to_beat_control,
    ${jsonNumber('revenue', 'mean')} AS revenue_mean,
    ${jsonNumber('revenue', 't')} AS revenue_t,
    ${jsonNumber('revenue', 'p_value')} AS revenue_p_value,
    visitParamExtractRaw(v, 'flags') AS flags
  FROM (${DOCUMENT})
  ARRAY JOIN arrayPopFront(splitByString('{"variant":', visitParamExtractRaw(doc, 'variants'))) AS part`;

const VERDICT = `multiIf(
    srm_p_value IS NOT NULL AND srm_p_value < ${SRM_ALPHA}, '${VERDICTS.srm}',
    variant = control, '${VERDICTS.control}',
    goal_kind = 'revenue', multiIf(
      revenue_p_value IS NULL, '${VERDICTS.noData}',
      revenue_p_value < ${ALPHA}, if(revenue_t > 0, '${VERDICTS.better}', '${VERDICTS.worse}'),
      '${VERDICTS.notYet}'),
    p_value_sequential IS NULL OR p_value_holm IS NULL, '${VERDICTS.noData}',
    p_value_sequential < ${ALPHA} AND p_value_holm < ${ALPHA}, if(abs_diff > 0, '${VERDICTS.better}', '${VERDICTS.worse}'),
    '${VERDICTS.notYet}')`;

/** Colours of the verdict column: red for SRM, green/orange for significant, plain otherwise. */
const verdictColours = {
  column: 'verdict',
  properties: [
    { id: 'custom.cellOptions', value: { type: 'color-text' } },
    {
      id: 'mappings',
      value: [
        { type: 'regex', options: { pattern: '^SRM', result: { color: 'red', index: 0 } } },
        { type: 'regex', options: { pattern: '^significant: better', result: { color: 'green', index: 1 } } },
        { type: 'regex', options: { pattern: '^significant: worse', result: { color: 'orange', index: 2 } } },
        { type: 'regex', options: { pattern: '.*', result: { color: 'text', index: 3 } } },
      ],
    },
  ],
};

const percent = (column: string) => ({ column, properties: [{ id: 'unit', value: 'percentunit' }] });

const results: SqlPanel = {
  title: 'Results by variant (${experiment})',
  description:
    'Each treatment against control: conversion rates, the absolute difference and relative lift with their 95% CIs, z-test p-value, Holm-adjusted p-value, always-valid (mSPRT) p-value and Bayesian chance to beat control (design §6). Verdict: SRM when the SRM p-value < 0.001; significant when the always-valid and Holm p-values are both < 0.05 (revenue goals: Welch p < 0.05); otherwise "not yet significant".',
  type: 'table',
  width: 24,
  sql: `SELECT variant, ${VERDICT} AS verdict, exposures, conversions, conversion_rate,
  lift, lift_ci_low, lift_ci_high, abs_diff, abs_diff_ci_low, abs_diff_ci_high,
  p_value, p_value_holm, p_value_sequential, chance_to_beat_control, srm_p_value, flags
FROM (${VARIANTS})`,
  columns: [
    'variant',
    'verdict',
    'exposures',
    'conversions',
    'conversion_rate',
    'lift',
    'lift_ci_low',
    'lift_ci_high',
    'abs_diff',
    'abs_diff_ci_low',
    'abs_diff_ci_high',
    'p_value',
    'p_value_holm',
    'p_value_sequential',
    'chance_to_beat_control',
    'srm_p_value',
    'flags',
  ],
  overrides: [
    verdictColours,
    ...['conversion_rate', 'lift', 'lift_ci_low', 'lift_ci_high', 'abs_diff', 'abs_diff_ci_low', 'abs_diff_ci_high', 'chance_to_beat_control'].map(percent),
  ],
};

const revenue: SqlPanel = {
  title: 'Revenue per exposed user (${experiment})',
  description: 'Mean revenue per exposed user (non-buyers count 0) and the Welch t-test against control (design §6).',
  type: 'table',
  width: 12,
  sql: `SELECT variant, revenue_mean, revenue_t, revenue_p_value FROM (${VARIANTS})`,
  columns: ['variant', 'revenue_mean', 'revenue_t', 'revenue_p_value'],
};

const srm: SqlPanel = {
  title: 'Sample ratio check (${experiment})',
  description: 'Chi-square goodness-of-fit p-value of exposures against the configured weights (design §6). Below 0.001: SRM — the assignment or the exposure logging is broken.',
  type: 'stat',
  width: 12,
  showText: true,
  sql: `SELECT multiIf(srm_p_value IS NULL, 'SRM not computed yet', srm_p_value < ${SRM_ALPHA}, 'SRM detected', 'no SRM') AS srm_status,
  srm_p_value, multi_exposure_users
FROM (
  SELECT ${jsonNumber('doc', 'srm_p_value')} AS srm_p_value, visitParamExtractUInt(doc, 'multi_exposure_users') AS multi_exposure_users
  FROM (${DOCUMENT})
)`,
  columns: ['srm_status', 'srm_p_value', 'multi_exposure_users'],
  overrides: [
    {
      column: 'srm_status',
      properties: [
        {
          id: 'mappings',
          value: [
            { type: 'value', options: { 'SRM detected': { color: 'red', index: 0 }, 'no SRM': { color: 'green', index: 1 } } },
          ],
        },
      ],
    },
  ],
};

const counts: SqlPanel = {
  title: 'Counts behind the statistics (${experiment})',
  description:
    'viral.experiment_variant_stats: users exposed (first exposure, multi-exposure users excluded) and users converting per goal event at or after their first exposure (design §6 Counting).',
  type: 'table',
  width: 12,
  sql: `SELECT variant, argMax(exposures, version) AS exposed_users,
  argMax(conversions_signup, version) AS signup, argMax(conversions_invite_sent, version) AS invite_sent,
  argMax(conversions_invite_accepted, version) AS invite_accepted, argMax(conversions_purchase, version) AS purchase,
  argMax(revenue_sum, version) AS revenue
FROM viral.experiment_variant_stats
WHERE ${APP} AND experiment_id = '\${experiment}'
GROUP BY app_id, experiment_id, variant
ORDER BY variant`,
  columns: ['variant', 'exposed_users', 'signup', 'invite_sent', 'invite_accepted', 'purchase', 'revenue'],
};

const exposures: SqlPanel = {
  title: 'Users exposed per interval (${experiment})',
  description: 'Distinct users with an experiment_exposure per interval, by variant (raw events).',
  type: 'timeseries',
  width: 12,
  sql: `SELECT ${timeBucket('occurred_at')} AS time, variant, uniqExact(user_id) AS users
FROM viral.events
WHERE ${APP} AND type = 'experiment_exposure' AND experiment_id = '\${experiment}' AND $__timeFilter(occurred_at)
GROUP BY time, variant
ORDER BY time, variant`,
  columns: ['time', 'variant', 'users'],
};

const allExperiments: SqlPanel = {
  title: 'All experiments of the app',
  description: 'Every defined experiment, its goal, when its results were last computed, and its SRM state.',
  type: 'table',
  width: 24,
  sql: `SELECT experiment_id,
  concat(visitParamExtractString(definition, 'kind'), ': ', visitParamExtractString(definition, 'event')) AS goal,
  computed_at,
  ${jsonNumber('doc', 'srm_p_value')} AS srm_p_value,
  multiIf(doc = '', 'no results yet', srm_p_value IS NULL, 'SRM not computed yet', srm_p_value < ${SRM_ALPHA}, 'SRM detected', 'no SRM') AS srm_status
FROM (
  SELECT experiment_id, argMax(definition, version) AS definition
  FROM viral.experiments
  WHERE ${APP}
  GROUP BY app_id, experiment_id
) ANY LEFT JOIN (
  SELECT experiment_id, argMax(result, version) AS doc, argMax(computed_at, version) AS computed_at
  FROM viral.experiment_results
  WHERE ${APP}
  GROUP BY app_id, experiment_id
) USING experiment_id
ORDER BY experiment_id`,
  columns: ['experiment_id', 'goal', 'computed_at', 'srm_p_value', 'srm_status'],
};

export const experiments: DashboardSpec = {
  uid: 'viral-experiments',
  title: 'Experiments',
  description: 'A/B experiments on invitation flows: per-variant results with CIs and significance that stays valid when looked at daily (design §6, §9).',
  tags: ['viral', 'experiments'],
  variables: ['app', 'experiment'],
  rows: [
    { title: 'Results', height: 9, panels: [results] },
    { title: 'Checks and counts', height: 8, panels: [srm, revenue, counts, exposures] },
    { title: 'Experiments', height: 8, panels: [allExperiments] },
  ],
};
