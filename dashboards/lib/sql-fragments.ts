// SQL pieces every dashboard repeats. Panel SQL is Grafana text, not a statement built from user
// values: `${var}` are Grafana template variables and `$__…` the ClickHouse data source's macros
// (expanded by Grafana, or by ./expand-macros.ts in tests). Every piece runs on ClickHouse 18.16
// and current versions (design §2): no window functions, no CTE subqueries, no toStartOfInterval,
// no JSONExtract (18.16 has only the visitParam* functions, current versions keep them).

/** The selected app; every panel is scoped to one app (design §2 "Apps and keys"). */
export const APP = "app_id = '${app}'";

/** Raw events counted once per event_id (design §3 idempotency: merges are eventual). */
export const DEDUPE = 'LIMIT 1 BY app_id, event_id';

/** The selected channel of raw invitations, or every channel for `all`. */
export const CHANNEL_FILTER = "('${channel}' = 'all' OR channel = '${channel}')";

/** The bucket of a DateTime column at Grafana's interval (toStartOfInterval is not on 18.16). */
export function timeBucket(column: string): string {
  return `toDateTime(intDiv(toUInt32(${column}), $__interval_s) * $__interval_s)`;
}

/** Length of the selected window granularity in seconds (hour, day, ISO week: design §4). */
export const GRANULARITY_SECONDS = "multiIf('${granularity}' = 'hour', 3600, '${granularity}' = 'day', 86400, 604800)";

/**
 * A number of a JSON object, NULL when it is `null` or absent. visitParamExtractRaw finds the
 * first `"key":` in the text, so `doc` must hold the key once before any nested object reuses it.
 */
export function jsonNumber(doc: string, key: string): string {
  return `toFloat64OrNull(visitParamExtractRaw(${doc}, '${key}'))`;
}

/** Bound `index` (1 = low, 2 = high) of a `[lo, hi]` JSON pair, NULL when the pair is `null`. */
export function jsonPairBound(doc: string, key: string, index: 1 | 2): string {
  const pair = `visitParamExtractRaw(${doc}, '${key}')`;
  return `toFloat64OrNull(splitByChar(',', substring(${pair}, 2, length(${pair}) - 2))[${index}])`;
}
