// SQL of the viral routes (design §7), built only with core/clickhouse/sql.ts. Latest version of
// each upserted row via argMax (ReplacingMergeTree merges are eventual: design §4). A window that
// lost all its invitations (or users) to a late, earlier event is rewritten with zeros, not
// deleted: such windows are left out.
import { dateTime, raw, sql, str, type Sql } from '../../core/clickhouse/sql.ts';
import type { Granularity } from '../params.ts';

export function coefficientQuery(appId: string, granularity: Granularity, from: number, to: number, channel?: string): Sql {
  const channelFilter = channel ? sql`AND channel = ${str(channel)}` : raw('');
  return sql`SELECT toUInt32(window_start) AS ws, channel,
  argMax(invites_sent, version) AS invites_sent, argMax(inviters, version) AS inviters,
  argMax(invites_accepted, version) AS invites_accepted, argMax(conversion_rate, version) AS conversion_rate,
  argMax(invites_per_inviter, version) AS invites_per_inviter, argMax(k_factor, version) AS k_factor
FROM viral.kfactor_windows
WHERE app_id = ${str(appId)} AND granularity = ${str(granularity)} ${channelFilter}
  AND window_start >= ${dateTime(from)} AND window_start < ${dateTime(to)}
GROUP BY window_start, channel
HAVING invites_sent > 0
ORDER BY window_start, channel`;
}

export function cohortsQuery(appId: string, granularity: Granularity, from: number, to: number): Sql {
  return sql`SELECT toUInt32(window_start) AS ws,
  argMax(cohort_size, version) AS cohort_size, argMax(referred_signups, version) AS referred_signups,
  argMax(cohort_k, version) AS cohort_k
FROM viral.cohort_windows
WHERE app_id = ${str(appId)} AND granularity = ${str(granularity)}
  AND window_start >= ${dateTime(from)} AND window_start < ${dateTime(to)}
GROUP BY window_start
HAVING cohort_size > 0
ORDER BY window_start`;
}
