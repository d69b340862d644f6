// pacedClients against a real local server and autocannon: every connection is used and the
// requests arrive evenly spaced — not autocannon's own fixed rate (each connection's budget sent
// back to back as each second starts, and at most `rate` connections), which this test shows too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { pacedClients } from './pacing.ts';

let app: FastifyInstance;
let url: string;
const arrivals: { at: number; socket: unknown }[] = [];

beforeAll(async () => {
  app = Fastify();
  app.get('/', async (req) => {
    arrivals.push({ at: performance.now(), socket: req.raw.socket });
    return { ok: true };
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => app.close());

/** Arrivals of a run: how many, on how many sockets, and the most within any 50 ms. */
async function run(options: Omit<autocannon.Options, 'url'>): Promise<{ n: number; sockets: number; maxIn50ms: number; firstAfterMs: number }> {
  // Requests of the previous run still being answered are not this run's.
  await new Promise((r) => setTimeout(r, 300));
  arrivals.length = 0;
  const started = performance.now();
  await autocannon({ duration: 3, ...options, url });
  const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
  let maxIn50ms = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] > 50) j++;
    maxIn50ms = Math.max(maxIn50ms, i - j + 1);
  }
  return { n: times.length, sockets: new Set(arrivals.map((a) => a.socket)).size, maxIn50ms, firstAfterMs: times[0] - started };
}

describe('pacedClients', () => {
  it('spreads a fixed rate evenly over every connection', async () => {
    // 40 connections at 100 req/s: each posts every 0.4 s; 5 requests per 50 ms on average.
    const paced = await run({ connections: 40, ...pacedClients(40, 100) });
    expect(paced.sockets).toBe(40);
    expect(paced.n).toBeGreaterThan(250);
    expect(paced.n).toBeLessThan(350);
    expect(paced.maxIn50ms).toBeLessThanOrEqual(10);

    // autocannon's own overallRate: every second starts with each connection's budget at once, and
    // with a rate below the connections it opens fewer connections than asked (lowered to the rate).
    const bursts = await run({ connections: 40, overallRate: 100 });
    expect(bursts.maxIn50ms).toBeGreaterThan(30);
    const capped = await run({ connections: 200, overallRate: 100 });
    expect(capped.sockets).toBeLessThan(200);
  });

  it('with openFirstMs, opens the connections first and starts the paced requests after', async () => {
    // 1 s of connecting, then 2 s of 100 req/s over 40 connections.
    const r = await run({ connections: 40, ...pacedClients(40, 100, 10, 1000) });
    expect(r.firstAfterMs).toBeGreaterThanOrEqual(950);
    expect(r.sockets).toBe(40);
    expect(r.n).toBeGreaterThan(150);
    expect(r.n).toBeLessThan(250);
    expect(r.maxIn50ms).toBeLessThanOrEqual(10);
  });
});
