// Fraud (design §5 "Fraud signals", §9): the six fixed signals by type, over time, the users
// flagged most, and the latest signals with their evidence. A signal counts when the latest version
// of its key is not retracted (sql/migrations/0200: filter AFTER argMax, never next to it).
import type { DashboardSpec, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP, timeBucket } from '../lib/sql-fragments.ts';

/** Live signals detected in the range. detected_at is a function of event_id (part of the key). */
const SIGNALS = `SELECT user_id, toString(signal) AS signal_name, event_id, detected_at, argMax(evidence, version) AS evidence
  FROM viral.fraud_signals
  WHERE ${APP} AND $__timeFilter(detected_at)
  GROUP BY app_id, user_id, signal, event_id, detected_at
  HAVING argMax(retracted, version) = 0`;

const totals: SqlPanel = {
  title: 'Signals in range',
  description: 'Live (not retracted) fraud signals detected in the range and the distinct users they flag.',
  type: 'stat',
  width: 8,
  sql: `SELECT count() AS signals, uniqExact(user_id) AS flagged_users FROM (${SIGNALS})`,
  columns: ['signals', 'flagged_users'],
};

const bySignal: SqlPanel = {
  title: 'Signals by type',
  description: 'self_referral, referral_cycle, invite_velocity, device_reuse, fast_conversion, reward_gaming (design §5): signals and distinct users flagged.',
  type: 'barchart',
  width: 16,
  xField: 'signal',
  sql: `SELECT signal_name AS signal, count() AS signals, uniqExact(user_id) AS users
FROM (${SIGNALS})
GROUP BY signal
ORDER BY signal`,
  columns: ['signal', 'signals', 'users'],
};

const overTime: SqlPanel = {
  title: 'Signals over time',
  description: 'Live signals per interval of their detection time (the time of the event that proves them), by type.',
  type: 'timeseries',
  width: 12,
  sql: `SELECT ${timeBucket('detected_at')} AS time, signal_name AS signal, count() AS signals
FROM (${SIGNALS})
GROUP BY time, signal
ORDER BY time, signal`,
  columns: ['time', 'signal', 'signals'],
};

const mostFlagged: SqlPanel = {
  title: 'Most flagged users',
  description: 'Users with the most live signals in the range and which signals they carry.',
  type: 'table',
  width: 12,
  sql: `SELECT user_id, count() AS signals, arrayStringConcat(arraySort(groupUniqArray(signal_name)), ', ') AS signal_names, max(detected_at) AS last_detected_at
FROM (${SIGNALS})
GROUP BY user_id
ORDER BY signals DESC, user_id
LIMIT 25`,
  columns: ['user_id', 'signals', 'signal_names', 'last_detected_at'],
};

const latest: SqlPanel = {
  title: 'Latest signals',
  description: 'The newest live signals with their evidence (a JSON object: thresholds crossed, the users of a ring or device, …) — as GET /v1/fraud/signals (design §7).',
  type: 'table',
  width: 24,
  sql: `SELECT detected_at, user_id, signal_name AS signal, event_id, evidence
FROM (${SIGNALS})
ORDER BY detected_at DESC, user_id, signal
LIMIT 100`,
  columns: ['detected_at', 'user_id', 'signal', 'event_id', 'evidence'],
};

export const fraud: DashboardSpec = {
  uid: 'viral-fraud',
  title: 'Fraud signals',
  description: 'Self-referral, referral cycles, invite bursts, device reuse, bot-fast conversions and reward gaming (design §5, §9).',
  tags: ['viral'],
  variables: ['app'],
  rows: [
    { title: 'Overview', height: 8, panels: [totals, bySignal, overTime, mostFlagged] },
    { title: 'Evidence', height: 12, panels: [latest] },
  ],
};
