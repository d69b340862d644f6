// The answers of the viral series routes (GET /v1/viral/coefficient and /v1/viral/cohorts,
// design §7), built from a ClickHouse statement: one function used both on the api's event loop
// (buildApi without a series worker, e.g. in tests that watch the statements) and in the series
// worker thread (api/series-worker.ts), so both give the same bytes.
import { ARROW_STREAM, toArrow, type ColumnType } from '../core/http/arrow.ts';
import { raw } from '../core/clickhouse/sql.ts';
import type { ClickHouse } from '../core/clickhouse/client.ts';
import { withGzip, type CachedBody } from './response-cache.ts';

export type SeriesRoute = 'coefficient' | 'cohorts';

/** What a series answer is built from; plain data, so it can be posted to the worker. */
export interface SeriesJob {
  route: SeriesRoute;
  /** Text of an Sql statement built by the route (core/clickhouse/sql.ts escaped every value). */
  statement: string;
  granularity: string;
  arrow: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const iso = (s: number | string) => new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z');
const num = (v: unknown) => Number(v);
type Row = Record<string, string | number>;

const ROUTES: Record<SeriesRoute, { columns: Record<string, ColumnType>; shape: (r: Row) => Record<string, unknown> }> = {
  coefficient: {
    columns: {
      window_start: 'string',
      channel: 'string',
      invites_sent: 'int',
      inviters: 'int',
      invites_accepted: 'int',
      conversion_rate: 'float',
      invites_per_inviter: 'float',
      k_factor: 'float',
    },
    shape: (r) => ({
      window_start: iso(r.ws),
      channel: String(r.channel),
      invites_sent: num(r.invites_sent),
      inviters: num(r.inviters),
      invites_accepted: num(r.invites_accepted),
      conversion_rate: num(r.conversion_rate),
      invites_per_inviter: num(r.invites_per_inviter),
      k_factor: num(r.k_factor),
    }),
  },
  cohorts: {
    columns: { window_start: 'string', cohort_size: 'int', referred_signups: 'int', cohort_k: 'float' },
    shape: (r) => ({
      window_start: iso(r.ws),
      cohort_size: num(r.cohort_size),
      referred_signups: num(r.referred_signups),
      cohort_k: num(r.cohort_k),
    }),
  },
};

/**
 * Runs the job's statement and serializes its rows, chunk by chunk as ClickHouse sends them: JSON
 * (the same text as JSON.stringify({ granularity, series })) or Arrow; gzipped when worth it.
 */
export async function buildSeries(ch: ClickHouse, job: SeriesJob): Promise<CachedBody> {
  const { columns, shape } = ROUTES[job.route];
  const rows: Record<string, unknown>[] = [];
  const parts: string[] = [];
  await ch.stream<Row>(
    raw(job.statement),
    (chunk) => {
      for (const r of chunk) {
        const row = shape(r);
        if (job.arrow) rows.push(row);
        else parts.push(JSON.stringify(row));
      }
    },
    { maxExecutionTime: 30 },
  );
  if (job.arrow) return withGzip({ contentType: ARROW_STREAM, body: Buffer.from(toArrow(rows, columns)) });
  return withGzip({ contentType: JSON_TYPE, body: Buffer.from(`{"granularity":${JSON.stringify(job.granularity)},"series":[${parts.join(',')}]}`) });
}
