-- Why: the chain route (design §7 GET /v1/viral/chains/:userId, "ancestors") in one lookup instead
-- of one per level (~4–5 ms each: 50 levels took ~240 ms). One row per signed-up user: the chain
-- of accepted referrers above them, nearest first, at most CHAIN_MAX_DEPTH + 1 entries (one more
-- than the api shows, so it knows when the chain goes on). Written by the referral-graph
-- processor (processors/referral-graph/graph-processor.ts) only when that chain may have changed
-- (a new user, a subtree that moved), not with every referral_nodes row. [] when the user's edge
-- is not accepted. A user without a row here (one written before this table existed) is answered
-- by the per-level walk. Read with argMax(ancestors, version) GROUP BY app_id, user_id.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.referral_ancestors (
    app_id String,
    user_id String,
    ancestors Array(String),
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (app_id, user_id)
