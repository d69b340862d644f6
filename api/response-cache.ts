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
// 5 s), and under steady traffic about `ttlMs` plus one query.
import { LRUCache } from 'lru-cache';

export interface CachedBody {
  contentType: string;
  body: string | Buffer;
}

export interface ResponseCache {
  get(key: string, compute: () => Promise<CachedBody>): Promise<CachedBody>;
}

export interface ResponseCacheOptions {
  /** An answer younger than this is served as is; 0 disables the cache (coalescing stays). */
  ttlMs: number;
  /** After the TTL, an answer is still served for this long while it is being refreshed. */
  staleMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** A background refresh failed (the stale answer keeps being served until it is too old). */
  onRefreshError?: (err: unknown) => void;
}

interface Entry {
  value: CachedBody;
  at: number;
}

export function createResponseCache(o: ResponseCacheOptions): ResponseCache {
  const now = o.now ?? Date.now;
  const staleMs = o.staleMs ?? 0;
  const done = new LRUCache<string, Entry>({ max: o.maxEntries ?? 2000 });
  const inFlight = new Map<string, Promise<CachedBody>>();

  function refresh(key: string, compute: () => Promise<CachedBody>): Promise<CachedBody> {
    let pending = inFlight.get(key);
    if (pending) return pending;
    const started = now();
    pending = compute().then(
      (value) => {
        inFlight.delete(key);
        // Stamped with the time the query started: the answer is at least that fresh.
        if (o.ttlMs > 0) done.set(key, { value, at: started });
        return value;
      },
      (err: unknown) => {
        inFlight.delete(key);
        throw err;
      },
    );
    inFlight.set(key, pending);
    return pending;
  }

  return {
    get(key, compute) {
      const hit = done.get(key);
      if (hit) {
        const age = now() - hit.at;
        if (age < o.ttlMs) return Promise.resolve(hit.value);
        if (age < o.ttlMs + staleMs) {
          refresh(key, compute).catch((err: unknown) => o.onRefreshError?.(err));
          return Promise.resolve(hit.value);
        }
      }
      return refresh(key, compute);
    },
  };
}
