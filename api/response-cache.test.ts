import { describe, expect, it } from 'vitest';
import { createResponseCache } from './response-cache.ts';

describe('response cache', () => {
  it('shares one computation between concurrent identical requests and reuses it within the TTL', async () => {
    const cache = createResponseCache(1000);
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
    const cache = createResponseCache(30);
    let n = 0;
    const compute = async () => ({ contentType: 'text/plain', body: String(++n) });
    expect((await cache.get('k', compute)).body).toBe('1');
    await new Promise((r) => setTimeout(r, 50));
    expect((await cache.get('k', compute)).body).toBe('2');
    await expect(cache.get('f', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect((await cache.get('f', compute)).body).toBe('3');
  });
});
