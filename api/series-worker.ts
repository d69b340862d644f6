// Worker thread of the api (api/series-refresher.ts): runs the series routes' ClickHouse queries
// and serializes and gzips their answers, so a refresh of a large answer (30 days × 24 h ×
// channels: ~3,400 rows, 600 KB of JSON, ~10–20 ms of CPU) never holds the event loop that
// serves the cached answers.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { buildSeries, type SeriesJob } from './series.ts';

export interface SeriesWorkerData {
  url: string;
  username?: string;
  password?: string;
}
export type SeriesRequest = SeriesJob & { id: number };
export type SeriesResponse = { id: number; contentType: string; body: Uint8Array; gzip?: Uint8Array } | { id: number; error: string };

// A lower priority for this thread only (Linux applies nice per thread): when the two cores are
// busy, the event loop serving cached answers goes first; a refresh is not waited for.
try {
  setPriority(10);
} catch {
  // not permitted here: same priority as the event loop
}

const data = workerData as SeriesWorkerData;
const ch = createClickHouse({ url: data.url, username: data.username, password: data.password });
const port = parentPort!;

port.on('message', (msg: SeriesRequest | 'close') => {
  if (msg === 'close') {
    void ch.close().finally(() => port.close());
    return;
  }
  const { id, ...job } = msg;
  buildSeries(ch, job).then(
    (a) => port.postMessage({ id, contentType: a.contentType, body: typeof a.body === 'string' ? Buffer.from(a.body) : a.body, gzip: a.gzip } satisfies SeriesResponse),
    (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies SeriesResponse),
  );
});
