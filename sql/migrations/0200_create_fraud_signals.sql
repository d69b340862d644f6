-- Fraud signals (design §5 "Fraud signals", §7 GET /v1/fraud/signals; issue 4 item 4), written by
-- processors/fraud. One row per signal instance: the user flagged, the fixed signal name, the
-- event that proves it, that event's time (DateTime in seconds, portable to 18.16) and the
-- evidence as a JSON object string. ReplacingMergeTree(version) keyed by (app_id, user_id, signal,
-- event_id): the processor derives that identity from the event set, so a replay or another
-- arrival order upserts the same key instead of adding a row. When a late event moves a signal's
-- identity (an earlier invitation moves the first over-threshold span, an earlier first sign-up
-- breaks a ring), the old key is upserted with retracted = 1: the rows with retracted = 0 are then
-- exactly the signals of the final event set. Read the latest version per key and keep
-- retracted = 0 AFTER it: `GROUP BY key … HAVING argMax(retracted, version) = 0` (or FINAL in a
-- subquery, filtered outside it) — a WHERE next to FINAL could drop the newer retracted row first.
-- detected_at is a function of event_id, so a key never changes partition (merges dedupe only
-- within one). Monthly partitions so retention drops them like viral.events (design §10).
-- Signal is an Enum8 of the six names §5 fixes; plain String/UInt types only, no Nullable key (runs on 18.16 and current).
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.fraud_signals
(
    app_id String,
    user_id String,
    signal Enum8('self_referral' = 1, 'referral_cycle' = 2, 'invite_velocity' = 3, 'device_reuse' = 4, 'fast_conversion' = 5, 'reward_gaming' = 6),
    event_id String,
    detected_at DateTime,
    evidence String,
    retracted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(detected_at)
ORDER BY (app_id, user_id, signal, event_id)
