// A short-lived cache of serialized answers (issue 7: the coefficient route at 500 req/s). Many
// dashboards and clients ask the same question within a second; the answer changes at most once
// per processor batch. Identical requests arriving together share one ClickHouse query
// (coalescing), and the serialized body is reused for `ttlMs` — bounding staleness to that TTL,
// well inside the freshness target (design §4: 5 s).
import { LRUCache } from 'lru-cache';

export interface CachedBody {
  contentType: string;
  body: string | Buffer;
}

export interface ResponseCache {
  get(key: string, compute: () => Promise<CachedBody>): Promise<CachedBody>;
}

export function createResponseCache(ttlMs: number, maxEntries = 2000): ResponseCache {
  const done = new LRUCache<string, CachedBody>({ max: maxEntries, ttl: ttlMs, ttlAutopurge: false });
  const inFlight = new Map<string, Promise<CachedBody>>();
  return {
    get(key, compute) {
      const hit = done.get(key);
      if (hit) return Promise.resolve(hit);
      let pending = inFlight.get(key);
      if (!pending) {
        pending = compute().then(
          (v) => {
            inFlight.delete(key);
            if (ttlMs > 0) done.set(key, v);
            return v;
          },
          (err) => {
            inFlight.delete(key);
            throw err;
          },
        );
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}
