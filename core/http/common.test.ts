import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerCommon } from './common.ts';

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
