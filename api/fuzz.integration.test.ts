// Bad query parameters on every read route (issue 8): never a 5xx, and no value reaches SQL
// unvalidated. Every statement sent to ClickHouse during the fuzz run is logged; with string
// literals (and the digits of numbers and dates) masked, each must have exactly the shape of a
// statement the same route sends for benign values — so no fuzzed text ever became SQL syntax.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { makeTenant, testConfig } from '../core/testing/services.ts';
import { buildApi } from './app.ts';

/** The statement with string literals → '?' and digit runs → 0; 'UNTERMINATED' if a literal never closes. */
export function skeleton(statement: string): string {
  let out = '';
  for (let i = 0; i < statement.length; i++) {
    const c = statement[i];
    if (c !== "'") {
      out += c;
      continue;
    }
    let j = i + 1;
    for (; j < statement.length && statement[j] !== "'"; j++) if (statement[j] === '\\') j++;
    if (j >= statement.length) return 'UNTERMINATED';
    out += '?';
    i = j;
  }
  return out.replace(/\d+(\.\d+)?(e-?\d+)?/g, '0');
}

const tenant = makeTenant('afuzz');
const config = testConfig([tenant], { API_RATE_LIMIT: '10000000' });
let statements: string[] = [];
const ch = createClickHouse({ url: inject('clickhouseUrl'), onStatement: (s) => statements.push(s) });
let app: FastifyInstance;

const BENIGN: Record<string, string> = {
  from: '2026-01-01T00:00:00Z',
  to: '2026-02-01T00:00:00Z',
  granularity: 'day',
  channel: 'email',
  tier: 'gold',
  limit: '10',
  signal: 'device_reuse',
  user_id: 'u',
};
const ROUTES: { path: (p: string) => string; params: string[] }[] = [
  { path: () => '/v1/viral/coefficient', params: ['from', 'to', 'granularity', 'channel'] },
  { path: () => '/v1/viral/cohorts', params: ['from', 'to', 'granularity'] },
  { path: () => '/v1/viral/chains', params: ['from', 'to'] },
  { path: (p) => `/v1/viral/chains/${p}`, params: [] },
  { path: (p) => `/v1/attribution/${p}`, params: [] },
  { path: () => '/v1/super-connectors', params: ['tier', 'limit'] },
  { path: () => '/v1/fraud/signals', params: ['user_id', 'signal', 'from', 'to', 'limit'] },
  { path: (p) => `/v1/experiments/${p}/results`, params: [] },
  { path: (p) => `/v1/experiments/${p}/assignment`, params: ['user_id'] },
];

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom("x' OR 1=1 --", "'; DROP TABLE viral.events; --", '\\', "\\'", '%00', '\u0000', '2026-01-01T00:00:00Z', '1e309', '-1', '999999999999', '../../etc', '{x:String}', '`a`', 'email', 'day', 'gold'),
);

async function request(route: (typeof ROUTES)[number], segment: string, params: Record<string, string>) {
  statements = [];
  const qs = new URLSearchParams(params).toString();
  const res = await app.inject({ method: 'GET', url: route.path(encodeURIComponent(segment)) + (qs ? `?${qs}` : ''), headers: { authorization: `Bearer ${tenant.readKey}` } });
  return { status: res.statusCode, body: res.json() as { message?: string }, statements: [...statements] };
}

beforeAll(async () => {
  app = await buildApi({ config, ch, log: createLogger('fatal'), registry: createRegistry('api-fuzz'), kafkaReady: async () => true });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await ch.close();
});

describe('api fuzz', () => {
  it('skeleton masks literals and numbers', () => {
    expect(skeleton("SELECT a FROM t WHERE x = 'it\\'s' AND y = 12 AND z = 'b'")).toBe('SELECT a FROM t WHERE x = ? AND y = 0 AND z = ?');
    expect(skeleton("SELECT 'open")).toBe('UNTERMINATED');
  });

  it('answers bad parameters with 4xx and sends only statements shaped like benign ones', async () => {
    let sqlChecked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        hostile,
        fc.dictionary(fc.constantFrom('from', 'to', 'granularity', 'channel', 'tier', 'limit', 'signal', 'user_id', 'bogus'), hostile, { maxKeys: 4 }),
        async (route, segment, params) => {
          const fuzzed = await request(route, segment, params);
          expect(fuzzed.status, JSON.stringify(fuzzed.body)).toBeLessThan(500);
          if (fuzzed.status >= 400) expect(fuzzed.body.message).toMatch(/\S/);
          if (fuzzed.statements.length === 0) return;
          const benignParams = Object.fromEntries(Object.keys(params).map((k) => [k, BENIGN[k] ?? 'x']));
          const benign = await request(route, 'u', benignParams);
          const shapes = new Set(benign.statements.map(skeleton));
          for (const s of fuzzed.statements) {
            expect(skeleton(s)).not.toBe('UNTERMINATED');
            expect(shapes.has(skeleton(s)), s.slice(0, 300)).toBe(true);
            sqlChecked++;
          }
        },
      ),
      { numRuns: 400, seed: 4242 },
    );
    expect(sqlChecked).toBeGreaterThan(20);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
