// Referral chains (design §9): depth histogram, top chains, referred revenue. Nodes come from
// viral.referral_nodes and revenue from viral.referral_attribution (design §5 "Referral graph",
// "Attribution"), each read as the latest version per key.
import type { DashboardSpec, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP, timeBucket } from '../lib/sql-fragments.ts';

/** Latest state of every user of the app's referral graph. depth is -1 while a chain waits. */
const NODES = `SELECT user_id,
    argMax(depth, version) AS depth,
    toString(argMax(status, version)) AS status,
    argMax(signup_at, version) AS signup_at,
    argMax(direct_referrals, version) AS direct_referrals,
    argMax(descendants, version) AS descendants,
    argMax(subtree_depth, version) AS subtree_depth
  FROM viral.referral_nodes
  WHERE ${APP}
  GROUP BY app_id, user_id`;

/** Latest referred revenue per referrer and currency, net of refunds. */
const ATTRIBUTION = `SELECT referrer_id, currency,
    argMax(direct_referred_revenue, version) AS direct_referred_revenue,
    argMax(chain_referred_revenue, version) AS chain_referred_revenue
  FROM viral.referral_attribution
  WHERE ${APP}
  GROUP BY app_id, referrer_id, currency`;

const chainStats: SqlPanel = {
  title: 'Referred users in range',
  description: 'Referred users (depth ≥ 1) whose first sign-up is in the range, their mean and maximum depth — as GET /v1/viral/chains (design §7).',
  type: 'stat',
  width: 8,
  sql: `SELECT count() AS referred_users, avg(depth) AS mean_depth, max(depth) AS max_depth
FROM (${NODES})
WHERE depth >= 1 AND $__timeFilter(signup_at)`,
  columns: ['referred_users', 'mean_depth', 'max_depth'],
  overrides: [{ column: 'mean_depth', properties: [{ id: 'decimals', value: 2 }] }],
};

const depthHistogram: SqlPanel = {
  title: 'Chain depth histogram',
  description:
    'Users whose first sign-up is in the range, by depth in their chain (0 = started a chain; design §5). Sign-ups waiting for their referrer (depth unknown) are left out.',
  type: 'barchart',
  width: 16,
  xField: 'depth',
  sql: `SELECT toString(d) AS depth, users
FROM (
  SELECT depth AS d, count() AS users
  FROM (${NODES})
  WHERE depth >= 0 AND $__timeFilter(signup_at)
  GROUP BY d
  ORDER BY d
)`,
  columns: ['depth', 'users'],
};

const referredOverTime: SqlPanel = {
  title: 'Sign-ups by referral status',
  description: 'First sign-ups per interval by the status of their graph edge: root (no referrer), accepted, pending (referrer not known yet), self_referral, cycle (design §5).',
  type: 'timeseries',
  width: 12,
  sql: `SELECT ${timeBucket('signup_at')} AS time, status, count() AS signups
FROM (${NODES})
WHERE $__timeFilter(signup_at)
GROUP BY time, status
ORDER BY time, status`,
  columns: ['time', 'status', 'signups'],
};

const topChains: SqlPanel = {
  title: 'Top chains by descendants',
  description:
    'Chain roots (depth 0) with the most descendants, whenever they signed up: direct referrals, depth of the subtree below the root, and the revenue of all descendants per currency net of refunds (design §5 chain_referred_revenue).',
  type: 'table',
  width: 12,
  sql: `SELECT user_id AS root_id, descendants, direct_referrals, subtree_depth, signup_at, chain_revenue AS chain_referred_revenue
FROM (
  SELECT user_id, descendants, direct_referrals, subtree_depth, signup_at
  FROM (${NODES})
  WHERE depth = 0 AND descendants > 0
  ORDER BY descendants DESC, user_id
  LIMIT 25
) ANY LEFT JOIN (
  SELECT referrer_id AS user_id, arrayStringConcat(arraySort(groupArray(concat(currency, ' ', toString(round(chain_referred_revenue, 2))))), ', ') AS chain_revenue
  FROM (${ATTRIBUTION})
  WHERE chain_referred_revenue != 0
  GROUP BY referrer_id
) USING user_id
ORDER BY descendants DESC, root_id`,
  columns: ['root_id', 'descendants', 'direct_referrals', 'subtree_depth', 'signup_at', 'chain_referred_revenue'],
};

const revenueByCurrency: SqlPanel = {
  title: 'Referred revenue by currency',
  description:
    'Purchases by referred users net of refunds, per currency: the sum of every referrer’s direct_referred_revenue (each referred user has one direct referrer, so nothing is counted twice; design §5).',
  type: 'barchart',
  width: 8,
  xField: 'currency',
  sql: `SELECT currency, sum(direct_referred_revenue) AS referred_revenue
FROM (${ATTRIBUTION})
GROUP BY currency
ORDER BY currency`,
  columns: ['currency', 'referred_revenue'],
};

const topReferrers: SqlPanel = {
  title: 'Top referrers by referred revenue',
  description: 'Referrers by the revenue of their whole subtree (chain) and of their direct referrals, per currency, net of refunds (design §5 Attribution).',
  type: 'table',
  width: 16,
  sql: `SELECT referrer_id, currency, chain_referred_revenue, direct_referred_revenue
FROM (${ATTRIBUTION})
WHERE chain_referred_revenue != 0
ORDER BY chain_referred_revenue DESC, referrer_id, currency
LIMIT 25`,
  columns: ['referrer_id', 'currency', 'chain_referred_revenue', 'direct_referred_revenue'],
};

export const referralChains: DashboardSpec = {
  uid: 'viral-referral-chains',
  title: 'Referral chains',
  description: 'Who referred whom: chain depth, the largest chains and the revenue they brought (design §5, §9).',
  tags: ['viral'],
  variables: ['app'],
  rows: [
    { title: 'Depth', height: 8, panels: [chainStats, depthHistogram, referredOverTime, topChains] },
    { title: 'Referred revenue', height: 8, panels: [revenueByCurrency, topReferrers] },
  ],
};
