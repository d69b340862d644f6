-- Raw events (design §2, issue 2): every valid event as ingest normalized it.
-- ReplacingMergeTree keyed by (app_id, event_id) so replays and duplicate posts collapse on merge;
-- reads that must be exact dedupe with `LIMIT 1 BY app_id, event_id` (merges are eventual and
-- only within a partition). Partitioned by month of event time so retention drops partitions.
-- DateTime is seconds (18.16 has no DateTime64): the millisecond part is kept in occurred_ms.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.events
(
    app_id String,
    event_id String,
    type Enum8('invite_sent' = 1, 'invite_opened' = 2, 'invite_clicked' = 3, 'signup' = 4, 'purchase' = 5, 'experiment_exposure' = 6, 'refund' = 7, 'reward_claimed' = 8),
    occurred_at DateTime,
    occurred_ms UInt16,
    received_at DateTime,
    user_id String,
    device_hash String,
    ip_hash String,
    invite_id String,
    channel String,
    variant String,
    recipient_domain String,
    referrer_id String,
    order_id String,
    amount Float64,
    currency String,
    experiment_id String,
    reward_id String,
    properties String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (app_id, event_id)
