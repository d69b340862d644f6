// requireScope (design §2 "Apps and keys"): the answer for every kind of header, the first time a
// header is seen and again once a matching one is remembered.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import auth from './auth.ts';

async function app() {
  const a = Fastify();
  await a.register(auth, {
    keys: [
      { key: 'ingest-key-aaaaaaaa', scope: 'ingest', appId: 'app1' },
      { key: 'read-key-bbbbbbbbbb', scope: 'read', appId: 'app2' },
    ],
  });
  a.get('/r', { onRequest: a.requireScope('read') }, async (req) => req.auth);
  a.get('/i', { onRequest: a.requireScope('ingest') }, async (req) => req.auth);
  return a;
}

describe('requireScope', () => {
  it('answers the same for a header seen before as for one seen the first time', async () => {
    const a = await app();
    const get = async (url: string, authorization?: string) => {
      const res = await a.inject({ url, headers: authorization === undefined ? {} : { authorization } });
      return { status: res.statusCode, body: res.json() };
    };
    for (let round = 0; round < 2; round++) {
      const ok = await get('/r', 'Bearer read-key-bbbbbbbbbb');
      expect(ok.status, `round ${round}`).toBe(200);
      expect(ok.body).toEqual({ appId: 'app2', scope: 'read', keyId: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect((await get('/i', 'Bearer read-key-bbbbbbbbbb')).status, `round ${round}`).toBe(403);
      expect((await get('/i', 'Bearer ingest-key-aaaaaaaa')).body).toEqual({ appId: 'app1', scope: 'ingest', keyId: expect.any(String) });
      expect((await get('/r', 'Bearer ingest-key-aaaaaaaa')).status).toBe(403);
      // Near misses of a remembered header are still checked as unknown keys.
      for (const h of ['Bearer read-key-bbbbbbbbbbb', 'Bearer read-key-bbbbbbbbb', 'bearer read-key-bbbbbbbbbb', 'Bearer  read-key-bbbbbbbbbb', 'Bearer read-key-bbbbbbbbbc']) {
        const res = await get('/r', h);
        expect(res.status, h).toBe(401);
      }
      expect((await get('/r')).body).toEqual({ error: 'unauthorized', message: 'missing Authorization: Bearer <key>' });
      expect((await get('/r', 'Bearer nope')).body).toEqual({ error: 'unauthorized', message: 'unknown API key' });
    }
    // The key id is the digest's prefix, the same both times.
    const first = (await get('/r', 'Bearer read-key-bbbbbbbbbb')).body.keyId;
    const fresh = await app();
    expect((await fresh.inject({ url: '/r', headers: { authorization: 'Bearer read-key-bbbbbbbbbb' } })).json().keyId).toBe(first);
    await Promise.all([a.close(), fresh.close()]);
  });
});
