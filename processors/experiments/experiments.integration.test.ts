// Experiments end to end on the real stack (issue 5): definitions through the api, assignment,
// exposures and goal events posted through ingest, counted by the processors, results recomputed
// by the job and served by `GET /v1/experiments/:id/results` — with counts equal to what was
// posted (computed here from the posted events) and tenants kept apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { eventually, makeTenant, testClickHouse, testConfig } from '../../core/testing/services.ts';
import { sql, str } from '../../core/clickhouse/sql.ts';
import { assignVariant } from '../../core/experiments/assign.ts';
import type { ExperimentDefinition } from '../../core/experiments/definition.ts';
import { startIngest } from '../../ingest/main.ts';
import { startApi } from '../../api/main.ts';
import { startProcessors } from '../main.ts';
import { createResultsJob } from './results-job.ts';
import type { ExperimentResultDocument } from './results.ts';
import { computeExperimentResults, type VariantStats } from './stats/index.ts';

const tenant = makeTenant('exp');
const other = makeTenant('exp2');
const config = testConfig([tenant, other]);
const ch = testClickHouse();
let ingest: Awaited<ReturnType<typeof startIngest>>;
let api: Awaited<ReturnType<typeof startApi>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function postEvents(events: unknown[]) {
  for (let i = 0; i < events.length; i += 500) {
    const res = await fetch(ingest.url + '/v1/events/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
      body: JSON.stringify({ events: events.slice(i, i + 500) }),
    });
    const answer = (await res.json()) as { rejected: unknown[] };
    expect(res.status).toBe(202);
    expect(answer.rejected).toEqual([]);
  }
}

const INVITES: ExperimentDefinition = {
  variants: [
    { name: 'control', weight: 50 },
    { name: 'b', weight: 50 },
  ],
  control: 'control',
  goal: { kind: 'conversion', event: 'invite_accepted' },
};
const REVENUE: ExperimentDefinition = {
  variants: [
    { name: 'control', weight: 1 },
    { name: 'b', weight: 1 },
    { name: 'c', weight: 2 },
  ],
  control: 'control',
  goal: { kind: 'revenue', event: 'purchase' },
};

beforeAll(async () => {
  ingest = await startIngest(config);
  api = await startApi(config);
  processors = await startProcessors(config, { retention: false });
});
afterAll(async () => {
  await processors?.close();
  await api?.close();
  await ingest?.close();
  await ch.close();
});

describe('definitions (design §6)', () => {
  it('rejects invalid definitions with a 400 naming each field, and non-admin keys with 403', async () => {
    const bad = await call('PUT', '/v1/experiments/inv_flow', tenant.adminKey, { ...INVITES, variants: [{ name: 'control', weight: 0 }, { name: 'b', weight: 1 }], goal: { kind: 'revenue', event: 'signup' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(['variants[0].weight: must be a positive number', 'goal.event: a revenue goal sums purchase amounts, so its event must be purchase']);
    expect(bad.body.message).toContain('variants[0].weight');
    const badId = await call('PUT', '/v1/experiments/bad%20id', tenant.adminKey, INVITES);
    expect(badId.status).toBe(400);
    expect(badId.body.message).toMatch(/^id: /);
    expect((await call('PUT', '/v1/experiments/inv_flow', tenant.readKey, INVITES)).status).toBe(403);
  });

  it('stores definitions per app and lists them only to that app', async () => {
    const put = await call('PUT', '/v1/experiments/inv_flow', tenant.adminKey, INVITES);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ experiment_id: 'inv_flow', ...INVITES });
    expect((await call('PUT', '/v1/experiments/rev_test', tenant.adminKey, REVENUE)).status).toBe(200);
    const list = await call('GET', '/v1/experiments', tenant.readKey);
    expect(list.body.experiments.map((e: { experiment_id: string; control: string; goal: unknown; variants: unknown }) => ({ ...e, updated_at: undefined }))).toEqual([
      { experiment_id: 'inv_flow', ...INVITES, updated_at: undefined },
      { experiment_id: 'rev_test', ...REVENUE, updated_at: undefined },
    ]);
    expect((await call('GET', '/v1/experiments', other.readKey)).body).toEqual({ experiments: [] });
  });
});

describe('assignment (design §6)', () => {
  it('answers the deterministic variant to ingest and read keys; 400 without user_id; 404 when unknown', async () => {
    for (const key of [tenant.ingestKey, tenant.readKey]) {
      const r = await call('GET', '/v1/experiments/rev_test/assignment?user_id=user%2F7', key);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(assignVariant('rev_test', 'user/7', REVENUE.variants));
    }
    const missing = await call('GET', '/v1/experiments/rev_test/assignment', tenant.readKey);
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^user_id: /);
    expect((await call('GET', '/v1/experiments/nope/assignment?user_id=u', tenant.readKey)).status).toBe(404);
    expect((await call('GET', '/v1/experiments/rev_test/assignment?user_id=u', other.ingestKey)).status).toBe(404);
  });
});

// The posted data and, computed alongside, what the results must show.
const base = Date.now() - 2 * 3600_000;
const at = (s: number) => new Date(base + s * 1000).toISOString();
type Expected = Map<string, { exposures: number; conversions: number; revenue: number[] }>;
const expected: Record<string, { variants: Expected; multi: number }> = {};
const events: Record<string, unknown>[] = [];
let n = 0;
const ev = (type: string, user: string, s: number, properties: Record<string, unknown>) => events.push({ event_id: `ev-${n++}`, type, occurred_at: at(s), user_id: user, properties });

function expect0(id: string, def: ExperimentDefinition) {
  expected[id] = { variants: new Map(def.variants.map((v) => [v.name, { exposures: 0, conversions: 0, revenue: [] }])), multi: 0 };
  return expected[id];
}

{
  // inv_flow: 40 senders exposed at t=100; s0–s3 also see the other variant (excluded). Sender i's
  // invitation (sent at t=50) is accepted after the exposure when i % 3 = 0 (a conversion credited
  // to the sender), before it when i % 3 = 1 (no conversion), never otherwise.
  const x = expect0('inv_flow', INVITES);
  for (let i = 0; i < 40; i++) {
    const user = `s${i}`;
    const variant = assignVariant('inv_flow', user, INVITES.variants).variant;
    ev('signup', user, 0, {});
    ev('invite_sent', user, 50, { invite_id: `inv-${i}`, channel: 'email' });
    ev('experiment_exposure', user, 100, { experiment_id: 'inv_flow', variant });
    if (i < 4) {
      ev('experiment_exposure', user, 200, { experiment_id: 'inv_flow', variant: variant === 'b' ? 'control' : 'b' });
      x.multi++;
    }
    if (i % 3 === 0) ev('signup', `new-${i}`, 300, { invite_id: `inv-${i}` });
    if (i % 3 === 1) ev('signup', `new-${i}`, 20, { invite_id: `inv-${i}` });
    if (i >= 4) {
      const v = x.variants.get(variant)!;
      v.exposures++;
      if (i % 3 === 0) v.conversions++;
    }
  }
  // rev_test: 30 users exposed at t=100; even users buy (i + 1) × 1.25 at t=150, users i % 4 = 0
  // also 10 at t=160, users i % 7 = 0 buy 99 before the exposure (not counted); p8 gets 2 refunded.
  const r = expect0('rev_test', REVENUE);
  for (let i = 0; i < 30; i++) {
    const user = `p${i}`;
    const variant = assignVariant('rev_test', user, REVENUE.variants).variant;
    ev('experiment_exposure', user, 100, { experiment_id: 'rev_test', variant });
    if (i % 7 === 0) ev('purchase', user, 50, { order_id: `early-${i}`, amount: 99, currency: 'USD' });
    let revenue = 0;
    if (i % 2 === 0) {
      ev('purchase', user, 150, { order_id: `o-${i}-1`, amount: (i + 1) * 1.25, currency: 'USD' });
      revenue += (i + 1) * 1.25;
    }
    if (i % 4 === 0) {
      ev('purchase', user, 160, { order_id: `o-${i}-2`, amount: 10, currency: 'USD' });
      revenue += 10;
    }
    if (i === 8) {
      ev('refund', user, 170, { order_id: 'o-8-1', amount: 2, currency: 'USD' });
      revenue -= 2;
    }
    const v = r.variants.get(variant)!;
    v.exposures++;
    if (i % 2 === 0) v.conversions++;
    v.revenue.push(revenue);
  }
}

function expectedStats(id: string, def: ExperimentDefinition): VariantStats[] {
  return def.variants.map((d) => {
    const v = expected[id].variants.get(d.name)!;
    return { name: d.name, weight: d.weight, exposures: v.exposures, conversions: v.conversions, revenueSum: v.revenue.reduce((a, b) => a + b, 0), revenueSumSquares: v.revenue.reduce((a, b) => a + b * b, 0) };
  });
}

/** Route document vs the statistics of the expected counts (the sequential p is a running min). */
function checkAgainstExpected(doc: ExperimentResultDocument, id: string, def: ExperimentDefinition) {
  const reference = computeExperimentResults({ control: def.control }, expectedStats(id, def));
  expect(doc.experiment_id).toBe(id);
  expect(doc.multi_exposure_users).toBe(expected[id].multi);
  expect(doc.srm_p_value).toBeCloseTo(reference.srm_p_value!, 9);
  doc.variants.forEach((v, i) => {
    const ref = reference.variants[i];
    expect({ variant: v.variant, exposures: v.exposures, conversions: v.conversions }).toEqual({ variant: ref.variant, exposures: ref.exposures, conversions: ref.conversions });
    for (const field of ['conversion_rate', 'abs_diff', 'lift', 'z', 'p_value', 'p_value_holm', 'chance_to_beat_control'] as const) {
      if (ref[field] === null) expect(v[field]).toBeNull();
      else expect(v[field]).toBeCloseTo(ref[field], 9);
    }
    expect(v.revenue.mean).toBeCloseTo(ref.revenue.mean!, 9);
    if (ref.revenue.p_value !== null) expect(v.revenue.p_value).toBeCloseTo(ref.revenue.p_value, 9);
    if (ref.p_value_sequential !== null) expect(v.p_value_sequential!).toBeLessThanOrEqual(ref.p_value_sequential + 1e-12);
  });
}

describe('counting and results (design §6–§7)', () => {
  it('shows exactly the posted counts, with duplicates and any arrival order counted once', async () => {
    // Later events first, then everything again (at-least-once clients resend).
    await postEvents([...events].reverse());
    await postEvents(events.slice(0, 200));
    for (const [id, def] of [['inv_flow', INVITES], ['rev_test', REVENUE]] as const) {
      const doc = await eventually(
        async () => {
          const r = await call('GET', `/v1/experiments/${id}/results`, tenant.readKey);
          const want = def.variants.map((v) => expected[id].variants.get(v.name)!.exposures);
          return r.status === 200 && JSON.stringify(r.body.variants.map((v: { exposures: number }) => v.exposures)) === JSON.stringify(want) && r.body.multi_exposure_users === expected[id].multi
            ? (r.body as ExperimentResultDocument)
            : undefined;
        },
        60_000,
        `results of ${id}`,
      );
      checkAgainstExpected(doc, id, def);
      expect(Object.keys(doc).sort()).toEqual(['computed_at', 'control', 'experiment_id', 'flags', 'multi_exposure_users', 'srm_p_value', 'variants']);
      expect(Object.keys(doc.variants[0]).sort()).toEqual(
        ['abs_diff', 'abs_diff_ci', 'chance_to_beat_control', 'conversion_rate', 'conversions', 'exposures', 'flags', 'lift', 'lift_ci', 'p_value', 'p_value_holm', 'p_value_sequential', 'revenue', 'variant', 'z'].sort(),
      );
    }
  });

  it('was written by the processors’ own results job, and a manual run writes only what changed', async () => {
    const stored = await eventually(async () => {
      const rows = await ch.query<{ result: string }>(sql`SELECT argMax(result, version) AS result FROM viral.experiment_results WHERE app_id = ${str(tenant.appId)} AND experiment_id = 'rev_test'`);
      const doc = rows[0] && (JSON.parse(rows[0].result) as ExperimentResultDocument);
      return doc && doc.variants.reduce((s, v) => s + v.exposures, 0) === 30 ? doc : undefined;
    }, 30_000, 'stored rev_test result');
    checkAgainstExpected(stored, 'rev_test', REVENUE);

    const job = createResultsJob({ ch, log: pino({ level: 'silent' }) });
    const key = { app_id: tenant.appId, experiment_id: 'rev_test' };
    expect(await job.run([key])).toEqual([]);
    // New weights: the stored look predates the definition, so the route computes a fresh one and
    // the next run stores it.
    const reweighted = { ...REVENUE, variants: REVENUE.variants.map((v) => ({ ...v, weight: 1 })) };
    expect((await call('PUT', '/v1/experiments/rev_test', tenant.adminKey, reweighted)).status).toBe(200);
    const fresh = await call('GET', '/v1/experiments/rev_test/results', tenant.readKey);
    checkAgainstExpected(fresh.body, 'rev_test', reweighted);
    await new Promise((r) => setTimeout(r, 1100)); // computed_at (seconds) must pass the PUT's second
    // This run, or the processors' own minute job if it came first, stores the new look.
    await job.run([key]);
    const rows = await ch.query<{ result: string }>(sql`SELECT argMax(result, version) AS result FROM viral.experiment_results WHERE app_id = ${str(tenant.appId)} AND experiment_id = 'rev_test'`);
    const latest = JSON.parse(rows[0].result) as ExperimentResultDocument;
    checkAgainstExpected(latest, 'rev_test', reweighted);
    expect(latest.srm_p_value).not.toBeCloseTo(stored.srm_p_value!, 6);
    expect(await job.run([key])).toEqual([]); // nothing changed since: nothing written
    await job.stop();
  });

  it('answers Arrow with one row per variant', async () => {
    const res = await fetch(`${api.url}/v1/experiments/inv_flow/results`, { headers: { authorization: `Bearer ${tenant.readKey}`, accept: 'application/vnd.apache.arrow.stream' } });
    expect(res.headers.get('content-type')).toContain('application/vnd.apache.arrow.stream');
    const { tableFromIPC } = await import('apache-arrow');
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    expect(table.numRows).toBe(2);
    expect(table.getChild('variant')!.toArray()).toEqual(['control', 'b']);
    expect(Number(table.getChild('exposures')!.get(1))).toBe(expected.inv_flow.variants.get('b')!.exposures);
  });

  it('keeps tenants apart: another app gets 404 for the experiment and its results', async () => {
    expect((await call('GET', '/v1/experiments/inv_flow/results', other.readKey)).status).toBe(404);
    expect((await call('GET', '/v1/experiments/unknown/results', tenant.readKey)).status).toBe(404);
  });
});
