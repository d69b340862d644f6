-- Why: the viral coefficient per app × granularity × window × channel (design §5, §7
-- /v1/viral/coefficient), upserted by the k-factor processor (processors/k-factor/compute.ts)
-- for every window a batch touches. Read with FINAL or argMax(x, version) GROUP BY the ORDER BY key.
-- window_start is the UTC window start in unix seconds (hour, day, or ISO week starting Monday),
-- computed in TypeScript (core/time.ts). channel 'all' aggregates the five channels. A window
-- that lost all its invitations (an earlier invite_sent moved them) is rewritten with zeros, not
-- deleted: readers keep rows with invites_sent > 0. Monthly partitions for retention drops.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.kfactor_windows (
    app_id String,
    granularity Enum8('hour' = 1, 'day' = 2, 'week' = 3),
    window_start DateTime,
    channel Enum8('email' = 1, 'sms' = 2, 'whatsapp' = 3, 'link' = 4, 'other' = 5, 'all' = 6),
    invites_sent UInt32,
    inviters UInt32,
    invites_accepted UInt32,
    conversion_rate Float64,
    invites_per_inviter Float64,
    k_factor Float64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (app_id, granularity, channel, window_start)
