// A short-lived cache of serialized answers (issue 7: the coefficient route at 500 req/s). Many
// dashboards and clients ask the same question within a second; the answer changes at most once
// per processor batch. Identical requests arriving together share one ClickHouse query
// (coalescing), and the serialized body is reused for `ttlMs`.
//
// Stale-while-revalidate: once an answer is older than `ttlMs` but younger than `ttlMs + staleMs`,
// it is still served at once while ONE background query refreshes it; only a request that finds
// no answer, or one older than that, waits for ClickHouse. Without it every request arriving
// during the refresh query (~40 ms for 30 days of hourly windows) waited for it, once per TTL —
// at 500 req/s that was the p99. So an answer is at most `ttlMs + staleMs` old (design §4 allows
// 5 s), and under steady traffic about `ttlMs` plus one query. When the processors announce new
// rows of an app (the updates topic behind /v1/stream), its answers are expired (`expire`), so a
// request starts the refresh: the api then lags the processors by about `minRefreshMs` + one query.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { LRUCache } from 'lru-cache';

export interface CachedBody {
  contentType: string;
  body: string | Buffer;
  /** The body gzipped, when it is worth it (withGzip). */
  gzip?: Buffer;
}

/** Answers smaller than this are sent as they are (gzip would save little). */
const GZIP_MIN_BYTES = 1024;
const gzipAsync = promisify(gzip);

/** True when an Accept-Encoding header accepts gzip (`gzip` or `*`, with q > 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') continue;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * Adds the gzip form of a large answer: 30 days of hourly windows are ~400–700 KB of JSON, which
 * at hundreds of requests per second costs more to write than to compute; gzip shrinks it ~10×.
 * Compressed once per answer, on libuv's thread pool (not the event loop the requests wait on).
 */
export async function withGzip(answer: CachedBody): Promise<CachedBody> {
  if (answer.body.length < GZIP_MIN_BYTES) return answer;
  return { ...answer, gzip: await gzipAsync(answer.body) };
}

/** The body to send for a request's Accept-Encoding. */
export function encodedBody(answer: CachedBody, acceptEncoding: string | undefined): { body: string | Buffer; gzip: boolean } {
  if (answer.gzip && acceptsGzip(acceptEncoding)) return { body: answer.gzip, gzip: true };
  return { body: answer.body, gzip: false };
}

export interface ResponseCache {
  get(key: string, compute: () => Promise<CachedBody>): Promise<CachedBody>;
  /**
   * New data for the answers whose key starts with `prefix`: once `minRefreshMs` old they count as
   * past their TTL, so the next request gets the cached answer and starts its refresh (an answer
   * is then about `minRefreshMs` plus one query behind the processors instead of up to the TTL).
   */
  expire(prefix: string): void;
}

export interface ResponseCacheOptions {
  /** An answer younger than this is served as is; 0 disables the cache (coalescing stays). */
  ttlMs: number;
  /** After the TTL, an answer is still served for this long while it is being refreshed. */
  staleMs?: number;
  /**
   * An answer announced stale (`expire`) is refreshed once it is this old (default 250 ms): while
   * the processors commit several batches a second, an app's answers are re-queried at most this
   * often, and are this much plus one query behind.
   */
  minRefreshMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** A background refresh failed (the stale answer keeps being served until it is too old). */
  onRefreshError?: (err: unknown) => void;
}

interface Entry {
  value: CachedBody;
  at: number;
  /** New data was announced after this answer's query started. */
  dirty: boolean;
}

export function createResponseCache(o: ResponseCacheOptions): ResponseCache {
  const now = o.now ?? Date.now;
  const staleMs = o.staleMs ?? 0;
  const minRefreshMs = o.minRefreshMs ?? 250;
  const done = new LRUCache<string, Entry>({ max: o.maxEntries ?? 2000 });
  const inFlight = new Map<string, Promise<CachedBody>>();
  /** Keys whose running query started before an announcement: stored dirty. */
  const dirtyInFlight = new Set<string>();

  function refresh(key: string, compute: () => Promise<CachedBody>): Promise<CachedBody> {
    let pending = inFlight.get(key);
    if (pending) return pending;
    const started = now();
    pending = compute().then(
      (value) => {
        inFlight.delete(key);
        const dirty = dirtyInFlight.delete(key);
        // Stamped with the time the query started: the answer is at least that fresh.
        if (o.ttlMs > 0) done.set(key, { value, at: started, dirty });
        return value;
      },
      (err: unknown) => {
        inFlight.delete(key);
        dirtyInFlight.delete(key);
        throw err;
      },
    );
    inFlight.set(key, pending);
    return pending;
  }

  return {
    expire(prefix) {
      for (const [key, entry] of done.entries()) if (key.startsWith(prefix)) entry.dirty = true;
      for (const key of inFlight.keys()) if (key.startsWith(prefix)) dirtyInFlight.add(key);
    },
    get(key, compute) {
      const hit = done.get(key);
      if (hit) {
        const age = now() - hit.at;
        // Fresh: within the TTL, and not (announced stale and old enough to be worth a query).
        if (age < o.ttlMs && !(hit.dirty && age >= minRefreshMs)) return Promise.resolve(hit.value);
        if (age < o.ttlMs + staleMs) {
          refresh(key, compute).catch((err: unknown) => o.onRefreshError?.(err));
          return Promise.resolve(hit.value);
        }
      }
      return refresh(key, compute);
    },
  };
}
