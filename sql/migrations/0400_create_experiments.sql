-- Experiment definitions (design §6, issue 5 item 1), written by `PUT /v1/experiments/:id` and read
-- by the api's in-memory cache (assignment) and the results job. One row per upsert;
-- ReplacingMergeTree(version) keyed (app_id, experiment_id) keeps the latest definition, and reads
-- take argMax(…, version) because merges are eventual (design §4). `definition` is the validated
-- JSON of core/experiments/definition.ts: variants change shape rarely and are always read whole.
-- Tiny table: no partitioning.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.experiments
(
    app_id String,
    experiment_id String,
    definition String,
    updated_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, experiment_id)
