// Recomputes experiment results (design §6–§7, issue 5 item 5) from the definitions and the latest
// variant statistics, and writes `viral.experiment_results`: every minute (node-cron), at start,
// and about a second after a committed batch changed an experiment's statistics. Each run is one
// "look" of the always-valid p-value: the previous look's values are read back so it stays a
// running minimum. A look whose document equals the stored one (apart from computed_at) is not
// written again, so a quiet experiment costs a read per minute and no write.
//
// Several processor instances may each run the job: they compute the same document from the same
// tables, and the ReplacingMergeTree keeps the latest; the running minimum stays valid because a
// look may always take the minimum with any earlier look.
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { ClickHouse } from '../../core/clickhouse/client.ts';
import { rowVersion, type RowBatch } from '../../core/processor.ts';
import { latestResultsQuery, variantStatsQuery, type ExperimentKey, type ResultRow, type VariantStatsRow } from '../../core/experiments/queries.ts';
import { readDefinitions, type StoredExperiment } from '../../core/experiments/store.ts';
import { VARIANT_STATS_TABLE } from './counting.ts';
import { buildExperimentResult, sameResult, type ExperimentResultDocument, type PreviousResult } from './results.ts';

export const RESULTS_TABLE = 'experiment_results';

const keyOf = (k: ExperimentKey) => k.app_id + '\u0000' + k.experiment_id;

function groupStats(rows: readonly VariantStatsRow[]): Map<string, VariantStatsRow[]> {
  const out = new Map<string, VariantStatsRow[]>();
  for (const r of rows) {
    const list = out.get(keyOf(r));
    if (list) list.push(r);
    else out.set(keyOf(r), [r]);
  }
  return out;
}

async function readPrevious(ch: ClickHouse, keys?: readonly ExperimentKey[]): Promise<Map<string, PreviousResult>> {
  const rows = await ch.query<ResultRow>(latestResultsQuery(keys));
  return new Map(rows.map((r) => [keyOf(r), { document: JSON.parse(r.result) as ExperimentResultDocument, computedAt: Number(r.computed_at) * 1000 }]));
}

/**
 * Computes (does not store) the current results of one experiment from its statistics and its
 * latest stored look. The api uses it when no look has been stored yet.
 */
export async function computeExperimentResult(ch: ClickHouse, experiment: StoredExperiment, now: number): Promise<ExperimentResultDocument> {
  const key = [{ app_id: experiment.app_id, experiment_id: experiment.experiment_id }];
  const [stats, previous] = await Promise.all([ch.query<VariantStatsRow>(variantStatsQuery(key)), readPrevious(ch, key)]);
  return buildExperimentResult(experiment, stats, previous.get(keyOf(experiment)), now);
}

export interface ResultsJobOptions {
  ch: ClickHouse;
  log: Logger;
  now?: () => number;
  /** Delay between a batch that changed counts and the recomputation (coalesces a burst). */
  debounceMs?: number;
  /** Cron expression of the periodic run (node-cron; default every minute). */
  schedule?: string;
  /** Called with the rows written (the live `/v1/stream`, core/stream/updates.ts). */
  onWritten?: (batches: RowBatch[]) => void;
}

export interface ResultsJob {
  /**
   * Recomputes the given experiments, or every defined one; returns the documents written
   * (unchanged looks are not written).
   */
  run(keys?: readonly ExperimentKey[]): Promise<ExperimentResultDocument[]>;
  /**
   * Hook for the pipeline's `onCommitted` (core/kafka/run-pipeline.ts): the experiments whose
   * statistics rows the batch wrote are recomputed within `debounceMs` (one run per burst).
   */
  onCommitted(rows: readonly RowBatch[]): void;
  start(): void;
  stop(): Promise<void>;
}

export function createResultsJob(o: ResultsJobOptions): ResultsJob {
  const now = o.now ?? Date.now;
  const debounceMs = o.debounceMs ?? 1000;
  /** Experiments written since the last on-demand run. */
  const pending = new Map<string, ExperimentKey>();
  let timer: NodeJS.Timeout | undefined;
  let task: ReturnType<typeof cron.schedule> | undefined;
  // Runs never overlap: each reads the look the previous one wrote.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  async function compute(keys?: readonly ExperimentKey[]): Promise<ExperimentResultDocument[]> {
    const wanted = keys && new Set(keys.map(keyOf));
    const definitions = (await readDefinitions(o.ch)).filter((d) => !wanted || wanted.has(keyOf(d)));
    if (definitions.length === 0) return [];
    const scope = keys ? definitions : undefined;
    const [stats, previous] = await Promise.all([o.ch.query<VariantStatsRow>(variantStatsQuery(scope)).then(groupStats), readPrevious(o.ch, scope)]);
    const t = now();
    const written: ExperimentResultDocument[] = [];
    const rows: Record<string, unknown>[] = [];
    const version = rowVersion(t);
    for (const d of definitions) {
      const before = previous.get(keyOf(d));
      const doc = buildExperimentResult(d, stats.get(keyOf(d)) ?? [], before, t);
      // Unchanged: skip, unless the stored look predates the definition (the route would then
      // recompute on every request).
      if (before && before.computedAt > d.updated_at && sameResult(before.document, doc)) continue;
      written.push(doc);
      rows.push({ app_id: d.app_id, experiment_id: d.experiment_id, computed_at: Math.floor(t / 1000), result: JSON.stringify(doc), version });
    }
    if (rows.length) {
      await o.ch.insert(`viral.${RESULTS_TABLE}`, rows);
      // Live subscribers get the document itself, not its JSON string.
      o.onWritten?.([{ table: RESULTS_TABLE, rows: rows.map((r, i) => ({ ...r, result: written[i] })) }]);
      o.log.debug({ experiments: rows.length }, 'experiment results written');
    }
    return written;
  }

  const job: ResultsJob = {
    run: (keys) => serial(() => compute(keys)),
    onCommitted(rows) {
      for (const b of rows) {
        if (b.table !== VARIANT_STATS_TABLE) continue;
        for (const r of b.rows) {
          const k = { app_id: String(r.app_id), experiment_id: String(r.experiment_id) };
          pending.set(keyOf(k), k);
        }
      }
      if (timer || pending.size === 0) return;
      timer = setTimeout(() => {
        timer = undefined;
        const keys = [...pending.values()];
        pending.clear();
        job.run(keys).catch((err: Error) => o.log.warn({ err: err.message }, 'experiment results recomputation failed; the minute run retries'));
      }, debounceMs);
    },
    start() {
      const runAll = () => job.run().catch((err: Error) => o.log.warn({ err: err.message }, 'experiment results run failed; retried next minute'));
      void runAll();
      task ??= cron.schedule(o.schedule ?? '* * * * *', runAll, { timezone: 'UTC', noOverlap: true });
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await task?.stop();
      task = undefined;
      await queue;
    },
  };
  return job;
}
