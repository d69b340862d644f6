-- Sufficient statistics per experiment variant (design §6 "Counting", conventions §6), written by
-- processors/experiments on every batch that touches the experiment: exposures (users whose first
-- exposure was to this variant, multi-exposure users excluded), conversions per goal event (users
-- with that goal event at or after their first exposure), and the sum and sum of squares of the
-- exposed users' revenue (purchases at or after the first exposure, net of refunds).
-- `multi_exposure_users` is per experiment and repeated on every variant row of a write (rows of
-- one experiment are always written together with one version). ReplacingMergeTree(version)
-- keyed (app_id, experiment_id, variant); read with argMax(…, version). Tiny table: no partitioning.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.experiment_variant_stats
(
    app_id String,
    experiment_id String,
    variant String,
    exposures UInt64,
    conversions_signup UInt64,
    conversions_invite_sent UInt64,
    conversions_invite_accepted UInt64,
    conversions_purchase UInt64,
    revenue_sum Float64,
    revenue_sum_sq Float64,
    multi_exposure_users UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, experiment_id, variant)
