// SQL of the referral-graph routes (design §7), built only with core/clickhouse/sql.ts. Every
// table is a ReplacingMergeTree upsert: the latest row of a key is read with argMax(…, version).
import { dateTime, int, list, raw, sql, str, type Sql } from '../../core/clickhouse/sql.ts';

/** Latest node of each given user. */
export function nodesQuery(appId: string, userIds: readonly string[]): Sql {
  return sql`SELECT user_id, argMax(referrer_id, version) AS referrer_id, argMax(root_id, version) AS root_id,
  argMax(depth, version) AS depth, argMax(status, version) AS status, toUInt32(argMax(signup_at, version)) AS signup_at,
  argMax(direct_referrals, version) AS direct_referrals, argMax(descendants, version) AS descendants,
  argMax(subtree_depth, version) AS subtree_depth
FROM viral.referral_nodes
WHERE app_id = ${str(appId)} AND user_id IN ${list(userIds.map(str))}
GROUP BY user_id`;
}

/** The stored chain above one user (viral.referral_ancestors, nearest first); no row for users written before that table. */
export function ancestorsQuery(appId: string, userId: string): Sql {
  return sql`SELECT argMax(ancestors, version) AS ancestors
FROM viral.referral_ancestors
WHERE app_id = ${str(appId)} AND user_id = ${str(userId)}
GROUP BY user_id`;
}

/** Latest referrer and edge status of one user: the chain route's step up, reading two columns instead of nine. */
export function parentQuery(appId: string, userId: string): Sql {
  return sql`SELECT user_id, argMax(referrer_id, version) AS referrer_id, argMax(status, version) AS status
FROM viral.referral_nodes
WHERE app_id = ${str(appId)} AND user_id = ${str(userId)}
GROUP BY user_id`;
}

/** Referred revenue per currency of one referrer (net of refunds: the processor nets them). */
export function attributionQuery(appId: string, referrerId: string): Sql {
  return sql`SELECT currency, argMax(direct_referred_revenue, version) AS direct, argMax(chain_referred_revenue, version) AS chain
FROM viral.referral_attribution
WHERE app_id = ${str(appId)} AND referrer_id = ${str(referrerId)}
GROUP BY currency
ORDER BY currency`;
}

export function superConnectorsQuery(appId: string, tiers: readonly string[], limit: number): Sql {
  return sql`SELECT user_id, s AS score, t AS tier, q AS quality_referrals, i AS indirect_referrals, p AS paying_referrals
FROM (
  SELECT user_id, argMax(score, version) AS s, toString(argMax(tier, version)) AS t, argMax(quality_referrals, version) AS q,
    argMax(indirect_referrals, version) AS i, argMax(paying_referrals, version) AS p
  FROM viral.super_connectors
  WHERE app_id = ${str(appId)}
  GROUP BY user_id
)
WHERE t IN ${list(tiers.map(str))}
ORDER BY score DESC, user_id
LIMIT ${int(limit)}`;
}

export interface FraudFilter {
  userId?: string;
  signal?: string;
  from: number;
  to: number;
  limit: number;
}

/** Signals whose latest row is not retracted (processors/fraud: a late event can withdraw one). */
export function fraudSignalsQuery(appId: string, f: FraudFilter): Sql {
  const user = f.userId === undefined ? raw('') : sql`AND user_id = ${str(f.userId)}`;
  const signal = f.signal === undefined ? raw('') : sql`AND signal = ${str(f.signal)}`;
  return sql`SELECT user_id, toString(signal) AS signal, event_id, toUInt32(detected_at) AS detected_at, argMax(evidence, version) AS evidence
FROM viral.fraud_signals
WHERE app_id = ${str(appId)} ${user} ${signal} AND detected_at >= ${dateTime(f.from)} AND detected_at < ${dateTime(f.to)}
GROUP BY user_id, signal, event_id, detected_at
HAVING argMax(retracted, version) = 0
ORDER BY detected_at DESC, user_id, event_id
LIMIT ${int(f.limit)}`;
}
