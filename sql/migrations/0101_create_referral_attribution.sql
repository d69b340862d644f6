-- Why: referred revenue per referrer (design §5 "Attribution", §7 /v1/attribution/:userId), one
-- row per (app_id, referrer_id, currency) since Map is not available on ClickHouse 18.16.
-- Upserted by processors/referral-graph/attribution.ts; net of refunds, exact to 6 decimals
-- (summed in integer micro-units). Rows exist for currencies ever attributed (possibly 0 now).
-- direct_referred_users / chain_referred_users are referral_nodes.direct_referrals /
-- descendants: the api reads them there (every referrer has a row there, with or without revenue).
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.referral_attribution (
    app_id String,
    referrer_id String,
    currency String,
    direct_referred_revenue Float64,
    chain_referred_revenue Float64,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (app_id, referrer_id, currency)
