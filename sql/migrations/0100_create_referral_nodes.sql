-- Why: the referral graph's durable, queryable form (design §5 "Referral graph", §7 chains
-- routes): one row per signed-up user, upserted by the referral-graph processor
-- (processors/referral-graph/graph-processor.ts) whenever the node or its subtree statistics
-- change. Read with FINAL or argMax(x, version) GROUP BY app_id, user_id.
-- depth is -1 while unknown (the chain above waits for a referrer's sign-up) and root_id '' then:
-- no Nullable, because argMax skips NULLs and would resurrect an old depth.
-- signup_at is unix seconds (DateTime). No partitions: this is current state, not a time series.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.referral_nodes (
    app_id String,
    user_id String,
    referrer_id String,
    root_id String,
    depth Int32,
    status Enum8('root' = 1, 'accepted' = 2, 'pending' = 3, 'self_referral' = 4, 'cycle' = 5),
    signup_at DateTime,
    invite_id String,
    direct_referrals UInt32,
    descendants UInt32,
    subtree_depth UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (app_id, user_id)
