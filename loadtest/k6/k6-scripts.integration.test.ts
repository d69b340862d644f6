// The k6 scripts (loadtest/k6/*.js) against the real services, without k6 (not installable here:
// AGPL, and no binary): k6's globals and its `k6`, `k6/http`, `k6/metrics` modules are stood in
// for by recorders, the scripts are loaded as they are, and every request they build — the events
// of lib.js's generator, single and batched, and the read mix's URLs and experiment definition —
// is sent to a real ingest (real Kafka) and api (real ClickHouse). So a change of the event
// schema, of a route or of scenarios.json that would break the scripts fails here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTenant, testConfig } from '../../core/testing/services.ts';
import { startIngest } from '../../ingest/main.ts';
import { startApi } from '../../api/main.ts';

interface Recorded {
  method: string;
  url: string;
  body?: string;
  headers: Record<string, string>;
}
const requests: Recorded[] = [];
const response = { status: 200, json: () => 0 };
const record = (method: string) => (url: string, bodyOrParams?: unknown, params?: { headers?: Record<string, string> }) => {
  const body = method === 'GET' ? undefined : (bodyOrParams as string);
  const p = (method === 'GET' ? bodyOrParams : params) as { headers?: Record<string, string> } | undefined;
  requests.push({ method, url, body, headers: p?.headers ?? {} });
  return response;
};
vi.mock('k6/http', () => ({ default: { get: record('GET'), post: record('POST'), put: record('PUT') } }));
vi.mock('k6', () => ({ check: () => true }));
vi.mock('k6/metrics', () => ({ Counter: class { add() {} } }));

const k6Dir = dirname(fileURLToPath(import.meta.url));
/** What a k6 script exports (plain JavaScript, loaded as it is). */
interface K6Script {
  options: { scenarios: Record<string, { vus?: number; duration?: string }> };
  default: (data?: unknown) => void;
  setup?: () => unknown;
}
const load = (file: string) => import(/* @vite-ignore */ `./${file}`) as Promise<K6Script>;
const tenant = makeTenant('k6');
const config = testConfig([tenant], { INGEST_RATE_LIMIT: '100000', API_RATE_LIMIT: '100000' });
let ingest: Awaited<ReturnType<typeof startIngest>>;
let api: Awaited<ReturnType<typeof startApi>>;
const g = globalThis as Record<string, unknown>;

beforeAll(async () => {
  ingest = await startIngest(config);
  api = await startApi(config);
  // k6's init-context globals, with the URLs and keys of this test's services.
  g.open = (path: string) => readFileSync(resolve(k6Dir, path), 'utf8');
  g.__ENV = { PROFILE: 'quick', INGEST_URL: ingest.url, API_URL: api.url, INGEST_KEY: tenant.ingestKey, READ_KEY: tenant.readKey, ADMIN_KEY: tenant.adminKey };
  g.__VU = 1;
  g.__ITER = 0;
});
afterAll(async () => {
  await ingest?.close();
  await api?.close();
  for (const k of ['open', '__ENV', '__VU', '__ITER']) delete g[k];
});

/** Runs an iteration of a script's default function as VU `vu`, iteration `iter`; returns its requests. */
function iteration(fn: (data?: unknown) => void, vu: number, iter: number, data?: unknown): Recorded[] {
  g.__VU = vu;
  g.__ITER = iter;
  requests.length = 0;
  fn(data);
  return requests.splice(0);
}

async function send(r: Recorded): Promise<{ status: number; body: any }> {
  const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
  return { status: res.status, body: await res.json().catch(() => null) };
}

describe('k6 scripts against the real services', () => {
  it('ingest-batch.js: its batches are accepted whole, no event rejected', async () => {
    const script = await load('ingest-batch.js');
    const settings = JSON.parse(readFileSync(resolve(k6Dir, '../scenarios.json'), 'utf8')).profiles.quick;
    expect(script.options.scenarios.ingest_batch).toMatchObject({ vus: settings.ingest.batchConnections, duration: `${settings.ingest.durationSeconds}s` });
    for (const [vu, iter] of [[1, 0], [2, 0], [1, 1], [3, 7]]) {
      const [req] = iteration(script.default, vu, iter);
      expect(req.url).toBe(`${ingest.url}/v1/events/batch`);
      const r = await send(req);
      expect(r.status).toBe(202);
      expect(r.body).toEqual({ accepted: settings.templates.batchSize, duplicates: 0, rejected: [] });
    }
  });

  it('ingest-single.js: every event type of the cycle is accepted', async () => {
    const script = await load('ingest-single.js');
    expect(script.options.scenarios.ingest_single.vus).toBeGreaterThan(0);
    const types = new Set<string>();
    for (let iter = 0; iter < 5; iter++) {
      const [req] = iteration(script.default, 4, iter);
      types.add(JSON.parse(req.body!).type);
      const r = await send(req);
      expect(r.status, req.body).toBe(202);
      expect(r.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    }
    expect(types.size).toBe(5);
  });

  it('mixed-read.js: the experiment definition is stored and every read route answers 200', async () => {
    const script = await load('mixed-read.js');
    requests.length = 0;
    script.setup!();
    const [put] = requests.splice(0);
    const stored = await send(put);
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    const routes = new Map<string, Recorded>();
    // Math.random picks the route: draw until all three were built.
    for (let iter = 0; routes.size < 3 && iter < 500; iter++) {
      for (const req of iteration(script.default, 1, iter, { assignment: true })) routes.set(new URL(req.url).pathname.split('/').slice(0, 4).join('/'), req);
    }
    expect([...routes.keys()].sort()).toEqual(['/v1/experiments/k6-invite-flow', '/v1/viral/coefficient', '/v1/viral/cohorts']);
    for (const req of routes.values()) {
      const r = await send(req);
      expect(r.status, `${req.url}: ${JSON.stringify(r.body)}`).toBe(200);
    }
    const assignment = await send(routes.get('/v1/experiments/k6-invite-flow')!);
    expect(['control', 'b']).toContain(assignment.body.variant);
  });
});
