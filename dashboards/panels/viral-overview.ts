// Viral overview (design §9): K-factor by channel and by experiment variant, the invitation funnel
// sent → opened → accepted, and cohort K. Window metrics come from the processors' upsert tables
// (design §5), read as the latest version per key; raw-event panels dedupe by event_id.
import type { DashboardSpec, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP, CHANNEL_FILTER, DEDUPE, GRANULARITY_SECONDS, timeBucket } from '../lib/sql-fragments.ts';

/**
 * Latest row of every K-factor window of the app, granularity and channel selected (§5). A window
 * that lost all its invitations is rewritten with zeros, not deleted (sql/migrations/0300): skip it.
 */
const KFACTOR_LATEST = `SELECT window_start,
    argMax(invites_sent, version) AS invites_sent,
    argMax(inviters, version) AS inviters,
    argMax(invites_accepted, version) AS invites_accepted,
    argMax(conversion_rate, version) AS conversion_rate,
    argMax(invites_per_inviter, version) AS invites_per_inviter,
    argMax(k_factor, version) AS k_factor
  FROM viral.kfactor_windows
  WHERE ${APP} AND granularity = '\${granularity}' AND channel = '\${channel}' AND $__timeFilter(window_start)
  GROUP BY app_id, granularity, window_start, channel
  HAVING invites_sent > 0`;

const kfactorLastWindow: SqlPanel = {
  title: 'K-factor, last complete window',
  description:
    'k_factor = invites_per_inviter × conversion_rate (design §5) of the newest window of the selected granularity and channel that has ended. Acceptances keep arriving for 30 days, so recent windows still grow.',
  type: 'stat',
  width: 6,
  decimals: 3,
  sql: `SELECT k_factor, invites_per_inviter, conversion_rate
FROM (${KFACTOR_LATEST})
WHERE window_start + ${GRANULARITY_SECONDS} <= $__toTime
ORDER BY window_start DESC
LIMIT 1`,
  columns: ['k_factor', 'invites_per_inviter', 'conversion_rate'],
};

const invitationTotals: SqlPanel = {
  title: 'Invitations in range',
  description:
    'Invitations sent in the windows of the range and how many were accepted (design §5): each invitation belongs to exactly one window, so these sums are exact. Acceptance rate = accepted / sent.',
  type: 'stat',
  width: 6,
  // Output names differ from the summed columns: a column alias would capture the later references.
  sql: `SELECT sum(invites_sent) AS sent, sum(invites_accepted) AS accepted, if(sent = 0, 0, accepted / sent) AS acceptance_rate
FROM (${KFACTOR_LATEST})`,
  columns: ['sent', 'accepted', 'acceptance_rate'],
  overrides: [{ column: 'acceptance_rate', properties: [{ id: 'unit', value: 'percentunit' }] }],
};

const kfactorByChannel: SqlPanel = {
  title: 'K-factor by channel',
  description:
    'viral.kfactor_windows (design §5) per window of the selected granularity: every channel and their aggregate `all`, or only the selected channel.',
  type: 'timeseries',
  width: 12,
  decimals: 3,
  sql: `SELECT window_start AS time, channel, argMax(k_factor, version) AS k_factor
FROM viral.kfactor_windows
WHERE ${APP} AND granularity = '\${granularity}' AND ('\${channel}' = 'all' OR channel = '\${channel}') AND $__timeFilter(window_start)
GROUP BY app_id, granularity, window_start, channel
HAVING argMax(invites_sent, version) > 0
ORDER BY time, channel`,
  columns: ['time', 'channel', 'k_factor'],
};

const conversionOverTime: SqlPanel = {
  title: 'Conversion rate and invites per inviter',
  description: 'The two factors of K (design §5) for the selected channel, per window.',
  type: 'timeseries',
  width: 12,
  sql: `SELECT window_start AS time, conversion_rate, invites_per_inviter
FROM (${KFACTOR_LATEST})
ORDER BY time`,
  columns: ['time', 'conversion_rate', 'invites_per_inviter'],
  overrides: [{ column: 'conversion_rate', properties: [{ id: 'unit', value: 'percentunit' }, { id: 'custom.axisPlacement', value: 'right' }] }],
};

const kfactorByVariant: SqlPanel = {
  title: 'K-factor by invitation-flow variant',
  description:
    'Invitations sent in range whose invite_sent carries a `variant`, by variant: accepted = a signup names the invitation within 30 days of it, by another user (design §5). Unlike the window table this does not drop acceptances rejected as referral cycles (rare); the experiment dashboard holds the significance.',
  type: 'table',
  width: 12,
  sql: `SELECT variant,
  count() AS invites_sent,
  uniqExact(sender) AS inviters,
  sum(acceptor != '' AND acceptor != sender AND accepted_at < sent_at + 2592000) AS invites_accepted,
  if(invites_sent = 0, 0, invites_accepted / invites_sent) AS conversion_rate,
  if(inviters = 0, 0, invites_sent / inviters) AS invites_per_inviter,
  invites_per_inviter * conversion_rate AS k_factor
FROM (
  SELECT invite_id, argMin(variant, occurred_at) AS variant, argMin(user_id, occurred_at) AS sender, min(occurred_at) AS sent_at
  FROM (
    SELECT invite_id, variant, user_id, occurred_at FROM viral.events
    WHERE ${APP} AND type = 'invite_sent' AND variant != '' AND ${CHANNEL_FILTER} AND $__timeFilter(occurred_at)
    ${DEDUPE}
  )
  GROUP BY invite_id
) ANY LEFT JOIN (
  SELECT invite_id, argMin(user_id, occurred_at) AS acceptor, min(occurred_at) AS accepted_at
  FROM viral.events
  WHERE ${APP} AND type = 'signup' AND invite_id != ''
  GROUP BY invite_id
) USING invite_id
GROUP BY variant
ORDER BY variant`,
  columns: ['variant', 'invites_sent', 'inviters', 'invites_accepted', 'conversion_rate', 'invites_per_inviter', 'k_factor'],
  overrides: [{ column: 'conversion_rate', properties: [{ id: 'unit', value: 'percentunit' }] }],
};

const funnel: SqlPanel = {
  title: 'Invitation funnel: sent → opened → clicked → accepted',
  description:
    'Invitations sent in range (selected channel) that reached each stage at any time: a later stage counts as having passed the earlier ones (an accepted invitation whose open was not tracked counts as opened). Accepted = a signup names the invitation (design §3).',
  type: 'barchart',
  width: 12,
  xField: 'stage',
  sql: `SELECT stage, invitations
FROM (
  SELECT countIf(sent) AS n_sent, countIf(sent AND opened) AS n_opened, countIf(sent AND clicked) AS n_clicked, countIf(sent AND accepted) AS n_accepted
  FROM (
    SELECT invite_id,
      max(type = 'invite_sent' AND ${CHANNEL_FILTER} AND $__timeFilter(occurred_at)) AS sent,
      max(type IN ('invite_opened', 'invite_clicked', 'signup')) AS opened,
      max(type IN ('invite_clicked', 'signup')) AS clicked,
      max(type = 'signup') AS accepted
    FROM viral.events
    WHERE ${APP} AND invite_id != '' AND type IN ('invite_sent', 'invite_opened', 'invite_clicked', 'signup')
    GROUP BY invite_id
  )
)
ARRAY JOIN ['sent', 'opened', 'clicked', 'accepted'] AS stage, [n_sent, n_opened, n_clicked, n_accepted] AS invitations`,
  columns: ['stage', 'invitations'],
};

/** Latest row of every non-empty cohort window of the selected granularity (design §5 cohort K). */
const COHORT_LATEST = `SELECT window_start,
    argMax(cohort_size, version) AS cohort_size,
    argMax(referred_signups, version) AS referred_signups,
    argMax(cohort_k, version) AS cohort_k
  FROM viral.cohort_windows
  WHERE ${APP} AND granularity = '\${granularity}' AND $__timeFilter(window_start)
  GROUP BY app_id, granularity, window_start
  HAVING cohort_size > 0`;

const cohortK: SqlPanel = {
  title: 'Cohort K by sign-up window',
  description: 'cohort_k = referred_signups / cohort_size (design §5): referrals, at any time so far, by the users who signed up in the window.',
  type: 'timeseries',
  width: 12,
  decimals: 3,
  sql: `SELECT window_start AS time, cohort_k FROM (${COHORT_LATEST}) ORDER BY time`,
  columns: ['time', 'cohort_k'],
};

const cohortTable: SqlPanel = {
  title: 'Cohorts',
  description: 'viral.cohort_windows, newest first (design §5).',
  type: 'table',
  width: 12,
  sql: `SELECT window_start, cohort_size, referred_signups, cohort_k FROM (${COHORT_LATEST}) ORDER BY window_start DESC`,
  columns: ['window_start', 'cohort_size', 'referred_signups', 'cohort_k'],
};

const invitesOverTime: SqlPanel = {
  title: 'Invitations sent by channel',
  description: 'Raw invite_sent events per interval (event time, deduplicated by event_id), by channel.',
  type: 'timeseries',
  width: 12,
  sql: `SELECT ${timeBucket('occurred_at')} AS time, channel, count() AS invitations
FROM (
  SELECT occurred_at, channel FROM viral.events
  WHERE ${APP} AND type = 'invite_sent' AND ${CHANNEL_FILTER} AND $__timeFilter(occurred_at)
  ${DEDUPE}
)
GROUP BY time, channel
ORDER BY time, channel`,
  columns: ['time', 'channel', 'invitations'],
};

export const viralOverview: DashboardSpec = {
  uid: 'viral-overview',
  title: 'Viral overview',
  description: 'Viral coefficient by channel and variant, the invitation funnel and cohort K (design §5, §9).',
  tags: ['viral'],
  variables: ['app', 'channel', 'granularity'],
  rows: [
    { title: 'Viral coefficient', height: 8, panels: [kfactorLastWindow, invitationTotals, kfactorByVariant, kfactorByChannel, conversionOverTime] },
    { title: 'Invitation funnel', height: 9, panels: [funnel, invitesOverTime] },
    { title: 'Cohorts', height: 8, panels: [cohortK, cohortTable] },
  ],
};
