// Super-connectors (design §5, §9): score = 100 × quality + 20 × indirect + 50 × paying referrals,
// tiers platinum ≥ 1000, gold 500–999, silver 200–499 (weights and thresholds are configuration:
// the processor writes the tier, so the panels read it rather than recompute it).
import type { DashboardSpec, SqlPanel } from '../lib/clickhouse-panel.ts';
import { APP } from '../lib/sql-fragments.ts';

/** Latest score row of every user (rows with score 0 exist so a falling score is overwritten). */
const SCORES = `SELECT user_id,
    argMax(score, version) AS score,
    toString(argMax(tier, version)) AS tier,
    argMax(quality_referrals, version) AS quality_referrals,
    argMax(indirect_referrals, version) AS indirect_referrals,
    argMax(paying_referrals, version) AS paying_referrals
  FROM viral.super_connectors
  WHERE ${APP}
  GROUP BY app_id, user_id`;

const tiers: SqlPanel = {
  title: 'Users per tier',
  description: 'Users with a positive score by tier; `none` = below the silver threshold (design §5).',
  type: 'barchart',
  width: 8,
  xField: 'tier',
  sql: `SELECT tier, users
FROM (
  SELECT tier, count() AS users, min(score) AS lowest
  FROM (${SCORES})
  WHERE score > 0
  GROUP BY tier
  ORDER BY lowest DESC
)`,
  columns: ['tier', 'users'],
};

const referralMix: SqlPanel = {
  title: 'Referrals behind the scores',
  description:
    'Over every user with a positive score: quality referrals (direct, not flagged by fraud, went on to invite or buy), indirect referrals (depth 2 and 3 below), paying referrals (direct, with a purchase).',
  type: 'stat',
  width: 16,
  sql: `SELECT countIf(score > 0) AS connectors, sum(quality_referrals) AS quality_referrals, sum(indirect_referrals) AS indirect_referrals, sum(paying_referrals) AS paying_referrals
FROM (${SCORES})`,
  columns: ['connectors', 'quality_referrals', 'indirect_referrals', 'paying_referrals'],
};

const leaderboard: SqlPanel = {
  title: 'Top super-connectors',
  description:
    'Highest scores with their components, and the user’s place in the referral graph (direct referrals and all descendants, viral.referral_nodes). The tiered users first, as GET /v1/super-connectors (design §7), then the rising ones below silver.',
  type: 'table',
  width: 24,
  sql: `SELECT user_id, tier, score, quality_referrals, indirect_referrals, paying_referrals, direct_referrals, descendants
FROM (
  SELECT * FROM (${SCORES}) WHERE score > 0 ORDER BY score DESC, user_id LIMIT 50
) ANY LEFT JOIN (
  SELECT user_id, argMax(direct_referrals, version) AS direct_referrals, argMax(descendants, version) AS descendants
  FROM viral.referral_nodes
  WHERE ${APP}
  GROUP BY app_id, user_id
) USING user_id
ORDER BY score DESC, user_id`,
  columns: ['user_id', 'tier', 'score', 'quality_referrals', 'indirect_referrals', 'paying_referrals', 'direct_referrals', 'descendants'],
};

export const superConnectors: DashboardSpec = {
  uid: 'viral-super-connectors',
  title: 'Super-connectors',
  description: 'Users whose referrals bring the most quality users, in tiers (design §5, §9).',
  tags: ['viral'],
  variables: ['app'],
  rows: [
    { title: 'Tiers', height: 7, panels: [tiers, referralMix] },
    { title: 'Leaderboard', height: 12, panels: [leaderboard] },
  ],
};
