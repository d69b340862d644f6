// Builds the series routes' answers in a worker thread (api/series-worker.ts) instead of on the
// event loop: at 500 req/s the refresh of a cached 30-day hourly answer every few seconds was the
// coefficient route's p99 (issue 7). The worker starts with the api, and again on the next
// request after it died; a job it could not finish fails like a ClickHouse error would (500, or
// the stale answer is kept).
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CachedBody } from './response-cache.ts';
import type { SeriesJob } from './series.ts';
import type { SeriesRequest, SeriesResponse, SeriesWorkerData } from './series-worker.ts';

const TSX_API = import.meta.resolve('tsx/esm/api');

export interface SeriesRefresher {
  build(job: SeriesJob): Promise<CachedBody>;
  close(): Promise<void>;
}

export function createSeriesRefresher(data: SeriesWorkerData, log: Logger): SeriesRefresher {
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (a: CachedBody) => void; reject: (e: Error) => void }>();

  function start(): Worker {
    // The worker runs TypeScript like the service itself, through tsx (its loader, registered
    // by `--import tsx` in the main thread, does not reach worker threads on Node 20).
    const entry = new URL('./series-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(TSX_API)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
    const w = new Worker(code, { eval: true, workerData: data });
    w.unref(); // an idle worker does not keep the process alive
    w.on('message', (m: SeriesResponse) => {
      const p = waiting.get(m.id);
      if (!p) return;
      waiting.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else {
        const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
        p.resolve({ contentType: m.contentType, body: buf(m.body), gzip: m.gzip && buf(m.gzip) });
      }
    });
    const fail = (err: Error) => {
      if (worker === w) worker = undefined;
      for (const p of waiting.values()) p.reject(err);
      waiting.clear();
    };
    w.on('error', (err) => {
      log.error({ err: err.message }, 'series worker failed; starting another on the next request');
      fail(err);
    });
    w.on('exit', (code) => fail(new Error(`series worker exited (${code})`)));
    return w;
  }

  worker = start(); // started now, so the first request does not wait for it to load
  return {
    build(job) {
      worker ??= start();
      const id = nextId++;
      const request: SeriesRequest = { id, ...job };
      return new Promise<CachedBody>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker!.postMessage(request);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise((r) => w.once('exit', r));
      w.postMessage('close');
      // A worker still waiting on ClickHouse is stopped after a grace period.
      const timer = setTimeout(() => void w.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
