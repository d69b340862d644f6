-- Experiment results (design §6–§7, issue 5 item 5): the latest look at each experiment, written by
-- the results job of processors/experiments (every minute, and about a second after a batch
-- changed the counts) and served by `GET /v1/experiments/:id/results`. `result` is the route's
-- JSON; the job also reads it back for the previous always-valid p-values (a running minimum over
-- looks). ReplacingMergeTree(version) keyed (app_id, experiment_id): only the latest look is kept,
-- so the table stays one row per experiment after merges and the route reads argMax over a few
-- unmerged rows. Tiny table: no partitioning.
-- blocking: no
CREATE TABLE IF NOT EXISTS viral.experiment_results
(
    app_id String,
    experiment_id String,
    computed_at DateTime,
    result String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (app_id, experiment_id)
