-- Why: the cohort viral coefficient per app × granularity × sign-up window (design §5, §7
-- /v1/viral/cohorts), upserted by the cohort processor (processors/cohorts/compute.ts) whenever a
-- cohort's size or its referred sign-ups change (referrals count "at any time so far", so old
-- cohorts keep being updated). Read with FINAL or argMax(x, version) GROUP BY the ORDER BY key.
-- window_start is the UTC window start in unix seconds (hour, day, or ISO week starting Monday),
-- computed in TypeScript (core/time.ts). A cohort left empty (its users' first sign-up turned out
-- earlier) is rewritten with zeros: readers keep rows with cohort_size > 0. Monthly partitions.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.cohort_windows (
    app_id String,
    granularity Enum8('hour' = 1, 'day' = 2, 'week' = 3),
    window_start DateTime,
    cohort_size UInt32,
    referred_signups UInt32,
    cohort_k Float64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (app_id, granularity, window_start)
