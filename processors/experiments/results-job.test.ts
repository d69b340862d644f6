// The results job's scheduling (issue 5 item 5): a burst of committed batches becomes one
// recomputation of exactly the experiments they wrote; unchanged looks are not written again.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { ClickHouse } from '../../core/clickhouse/client.ts';
import { definitionRow, type StoredExperiment } from '../../core/experiments/store.ts';
import { createResultsJob } from './results-job.ts';
import { VARIANT_STATS_TABLE } from './counting.ts';
import type { ExperimentResultDocument } from './results.ts';

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const stored = (id: string): StoredExperiment => ({
  app_id: 'app',
  experiment_id: id,
  definition: { variants: [{ name: 'control', weight: 1 }, { name: 'b', weight: 1 }], control: 'control', goal: { kind: 'conversion', event: 'signup' } },
  updated_at: T0 - 60_000,
  version: 1,
});

/** In-memory stand-in for the three tables the job reads and the one it writes. */
function fakeClickHouse() {
  const results: Record<string, unknown>[] = [];
  const statements: string[] = [];
  const ch = {
    async query(statement: { text: string }) {
      statements.push(statement.text);
      if (statement.text.includes('FROM viral.experiments ')) return ['x', 'y'].map((id) => ({ ...definitionRow(stored(id)), latest_version: '1' }));
      if (statement.text.includes('FROM viral.experiment_variant_stats'))
        return [{ app_id: 'app', experiment_id: 'x', variant: 'b', exposures: '40', conversions_signup: '9', conversions_invite_sent: '0', conversions_invite_accepted: '0', conversions_purchase: '0', revenue_sum: 0, revenue_sum_sq: 0, multi_exposure_users: '2', latest_version: '7' }];
      // Latest look per experiment, like argMax(result, version).
      const latest = new Map(results.map((r) => [r.experiment_id, r]));
      return [...latest.values()];
    },
    async insert(_table: string, rows: Record<string, unknown>[]) {
      results.push(...rows);
    },
  } as unknown as ClickHouse;
  return { ch, results, statements };
}

const statsBatch = (...ids: string[]) => [{ table: VARIANT_STATS_TABLE, rows: ids.map((id) => ({ app_id: 'app', experiment_id: id, variant: 'b' })) }];

describe('createResultsJob', () => {
  it('turns a burst of committed batches into one run over the experiments they wrote', async () => {
    const { ch, results, statements } = fakeClickHouse();
    const published: Record<string, unknown>[] = [];
    const job = createResultsJob({ ch, log: pino({ level: 'silent' }), now: () => T0, debounceMs: 20, onWritten: (b) => published.push(...b[0].rows) });
    job.onCommitted(statsBatch('x'));
    job.onCommitted([{ table: 'fraud_signals', rows: [{ app_id: 'app', experiment_id: 'y' }] }]);
    job.onCommitted(statsBatch('x'));
    await new Promise((r) => setTimeout(r, 80));
    await job.stop();
    // One run: definitions, statistics and previous looks read once, restricted to x.
    expect(statements.filter((s) => s.includes('viral.experiment_variant_stats'))).toHaveLength(1);
    expect(statements.find((s) => s.includes('viral.experiment_variant_stats'))).toContain("experiment_id = 'x'");
    expect(results.map((r) => r.experiment_id)).toEqual(['x']);
    const doc = JSON.parse(String(results[0].result)) as ExperimentResultDocument;
    expect(doc.variants.map((v) => [v.variant, v.exposures, v.conversions])).toEqual([
      ['control', 0, 0],
      ['b', 40, 9],
    ]);
    expect(doc.multi_exposure_users).toBe(2);
    expect(published[0]).toMatchObject({ app_id: 'app', experiment_id: 'x', result: doc });
  });

  it('writes a look only when it differs from the stored one', async () => {
    const { ch, results } = fakeClickHouse();
    let t = T0;
    const job = createResultsJob({ ch, log: pino({ level: 'silent' }), now: () => t });
    expect((await job.run()).map((d) => d.experiment_id)).toEqual(['x', 'y']);
    t += 60_000;
    expect(await job.run()).toEqual([]);
    expect(results).toHaveLength(2);
  });
});
