import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, createResponseCache, encodedBody, withGzip } from './response-cache.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('response cache', () => {
  it('shares one computation between concurrent identical requests and reuses it within the TTL', async () => {
    const cache = createResponseCache({ ttlMs: 1000 });
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { contentType: 'application/json', body: `{"n":${calls}}` };
    };
    const answers = await Promise.all([cache.get('a', compute), cache.get('a', compute), cache.get('a', compute)]);
    expect(calls).toBe(1);
    expect(answers.map((a) => a.body)).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
    expect((await cache.get('a', compute)).body).toBe('{"n":1}');
    expect((await cache.get('b', compute)).body).toBe('{"n":2}');
  });

  it('expires after the TTL and never caches failures', async () => {
    const cache = createResponseCache({ ttlMs: 30 });
    let n = 0;
    const compute = async () => ({ contentType: 'text/plain', body: String(++n) });
    expect((await cache.get('k', compute)).body).toBe('1');
    await new Promise((r) => setTimeout(r, 50));
    expect((await cache.get('k', compute)).body).toBe('2');
    await expect(cache.get('f', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect((await cache.get('f', compute)).body).toBe('3');
  });

  it('serves a stale answer at once while one refresh runs, and never one older than TTL + stale', async () => {
    let t = 0;
    const errors: unknown[] = [];
    const cache = createResponseCache({ ttlMs: 1000, staleMs: 2000, now: () => t, onRefreshError: (e) => errors.push(e) });
    let n = 0;
    let release: () => void = () => undefined;
    const slow = () => new Promise<{ contentType: string; body: string }>((r) => (release = () => r({ contentType: 'text/plain', body: String(++n) })));
    const first = cache.get('k', slow);
    release();
    expect((await first).body).toBe('1');

    t = 1500; // stale: answered from the cache, one refresh started
    expect((await cache.get('k', slow)).body).toBe('1');
    expect((await cache.get('k', slow)).body).toBe('1');
    release();
    await tick();
    expect(n).toBe(2); // both stale requests shared one refresh
    expect((await cache.get('k', slow)).body).toBe('2'); // stamped at 1500: fresh until 2500

    t = 1500 + 3000; // older than TTL + stale: waits for the query
    let waited = false;
    const late = cache.get('k', slow).then((a) => ((waited = true), a));
    await tick();
    expect(waited).toBe(false);
    release();
    expect((await late).body).toBe('3');

    t = 4500 + 1200; // a failed refresh keeps the stale answer and is reported
    expect((await cache.get('k', () => Promise.reject(new Error('ClickHouse down')))).body).toBe('3');
    await tick();
    expect(errors.map((e) => (e as Error).message)).toEqual(['ClickHouse down']);
  });

  it('with a TTL of 0 nothing is kept, identical concurrent requests still share one query', async () => {
    const cache = createResponseCache({ ttlMs: 0, staleMs: 2000 });
    let n = 0;
    const compute = async () => ({ contentType: 'text/plain', body: String(++n) });
    const [a, b] = await Promise.all([cache.get('k', compute), cache.get('k', compute)]);
    expect([a.body, b.body]).toEqual(['1', '1']);
    expect((await cache.get('k', compute)).body).toBe('2');
  });
});

describe('gzip of cached answers', () => {
  it('reads Accept-Encoding', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=0.5, br')).toBe(true);
    expect(acceptsGzip('br, *')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
  });

  it('compresses large answers once and sends small ones as they are', async () => {
    const big = await withGzip({ contentType: 'application/json', body: Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ window_start: i, k_factor: i / 7 })))) });
    const a = encodedBody(big, 'gzip, deflate');
    expect(a.gzip).toBe(true);
    expect(gunzipSync(a.body).equals(big.body as Buffer)).toBe(true);
    expect(a.body.length).toBeLessThan(big.body.length / 3);
    expect(encodedBody(big, 'gzip').body).toBe(a.body); // the same buffer: computed once
    expect(encodedBody(big, undefined)).toEqual({ body: big.body, gzip: false });
    const small = await withGzip({ contentType: 'application/json', body: '{"series":[]}' });
    expect(small.gzip).toBeUndefined();
    expect(encodedBody(small, 'gzip')).toEqual({ body: small.body, gzip: false });
  });
});

describe('expiry on new data', () => {
  it("makes an app's answers stale once old enough: served, refreshed by the next request, other apps untouched", async () => {
    let t = 0;
    const cache = createResponseCache({ ttlMs: 3000, staleMs: 2000, minRefreshMs: 250, now: () => t });
    let n = 0;
    let release: () => void = () => undefined;
    const compute = async () => ({ contentType: 'text/plain', body: String(++n) });
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('1');
    expect((await cache.get('b\u0000coefficient', compute)).body).toBe('2');
    t = 100;
    cache.expire('a\u0000');
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('1'); // younger than 250 ms: kept
    await tick();
    expect(n).toBe(2);
    t = 300;
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('1'); // stale now, refresh started
    await tick();
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('3');
    expect((await cache.get('b\u0000coefficient', compute)).body).toBe('2');

    // An announcement during a refresh query leaves the refreshed answer stale.
    t = 700;
    cache.expire('a\u0000');
    const slow = () => new Promise<{ contentType: string; body: string }>((r) => (release = () => r({ contentType: 'text/plain', body: String(++n) })));
    expect((await cache.get('a\u0000coefficient', slow)).body).toBe('3'); // refresh (4) running
    cache.expire('a\u0000');
    release();
    await tick();
    t = 700 + 250;
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('4'); // dirty: refresh (5) started
    await tick();
    expect((await cache.get('a\u0000coefficient', compute)).body).toBe('5');
  });
});
