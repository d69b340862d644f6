-- Why: super-connector scores and tiers (design §5 "Super-connectors", §7 /v1/super-connectors),
-- one row per signed-up user, upserted by processors/referral-graph/super-connectors.ts when the
-- user's referrals, their activity or their fraud flags change (rows with score 0 included, so a
-- falling score is overwritten). Read with FINAL, then filter by tier and sort by score.
-- score is Float64 because the weights are configuration and may be fractional.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.super_connectors (
    app_id String,
    user_id String,
    score Float64,
    tier Enum8('none' = 0, 'silver' = 1, 'gold' = 2, 'platinum' = 3),
    quality_referrals UInt32,
    indirect_referrals UInt32,
    paying_referrals UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (app_id, user_id)
