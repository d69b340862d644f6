import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import helmet from 'helmet';
import { recordHeaders, registerCommon } from './common.ts';

async function app() {
  const a = Fastify();
  await registerCommon(a, { registry: new Registry(), ready: async () => ({ x: true }), rateLimitPerMinute: 1000, corsOrigins: '' });
  a.get('/boom', async () => {
    throw new Error('secret detail');
  });
  return a;
}

describe('registerCommon security headers', () => {
  it('sets helmet headers on successes, errors and unknown routes, without a CSP', async () => {
    const a = await app();
    for (const url of ['/health', '/boom', '/nowhere']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['strict-transport-security'], url).toMatch(/^max-age=\d+/);
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['content-security-policy'], url).toBeUndefined();
    }
    const boom = await a.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: 'internal', message: 'internal error' });
    await a.close();
  });
});

describe('recordHeaders', () => {
  it("records exactly the headers helmet sets on a real response", async () => {
    // helmet run per request as middleware on the raw response: the headers it adds there.
    const a = Fastify();
    const middleware = helmet({ contentSecurityPolicy: false });
    a.addHook('onRequest', (req, reply, done) => middleware(req.raw, reply.raw, () => done()));
    a.get('/x', async () => ({}));
    const plain = Fastify();
    plain.get('/x', async () => ({}));
    const [withHelmet, without] = await Promise.all([a.inject({ url: '/x' }), plain.inject({ url: '/x' })]);
    const added = Object.fromEntries(Object.entries(withHelmet.headers).filter(([k]) => !(k in without.headers)));
    expect(Object.keys(added).length).toBeGreaterThanOrEqual(10);
    expect(recordHeaders(helmet({ contentSecurityPolicy: false }))).toEqual(added);
    await Promise.all([a.close(), plain.close()]);
  });

  it('refuses a middleware that depends on the request or answers later', () => {
    expect(() => recordHeaders((_req, _res, next) => void setImmediate(next))).toThrow(/did not finish synchronously/);
    expect(() => recordHeaders((_req, res, next) => (res.end(), next()))).toThrow(TypeError);
    expect(() => recordHeaders((_req, _res, next) => next(new Error('nope')))).toThrow(/nope/);
  });

  it('drops a header the middleware removes again', () => {
    expect(recordHeaders((_req, res, next) => (res.setHeader('X-A', '1'), res.setHeader('X-B', ['2', '3']), res.removeHeader('x-a'), next()))).toEqual({ 'x-b': '2, 3' });
  });
});
