// The read side end to end: demo events posted through ingest, processed through Kafka into
// ClickHouse, read through the api — every number must equal the pure processors fed the same
// (normalized) events in memory. Also tenant isolation, 400/404, Arrow, the live stream and erase.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { generateDemo } from '../core/demo/index.ts';
import type { ViralEvent } from '../core/events/types.ts';
import { eventually, makeTenant, testClickHouse, testConfig } from '../core/testing/services.ts';
import { sql, str } from '../core/clickhouse/sql.ts';
import { startIngest } from '../ingest/main.ts';
import { startProcessors } from '../processors/main.ts';
import { createRegistry } from '../processors/registry.ts';
import { ReferralGraph } from '../processors/referral-graph/graph.ts';
import { chainStats } from '../processors/referral-graph/chain-stats.ts';
import { postBatches } from '../loadtest/harness/demo-feed.ts';
import { derivedDiffsFromBatch, normalizeAll } from '../core/testing/compare.ts';
import { startApi } from './main.ts';

const tenant = makeTenant('api');
const other = makeTenant('apiother');
// Steps of 333 events: Kafka batches are split (core/kafka/run-pipeline.ts), and the tables must not notice.
const config = { ...testConfig([tenant, other]), processorMaxBatch: 333 };
const ch = testClickHouse();
const now = Date.now();
const demo = generateDemo({ seed: 7, now, days: 5, seedUsers: 400, fraudPerDay: 1 });

let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
let api: Awaited<ReturnType<typeof startApi>>;
/** The same events as ingest normalized them (no clock skew: posted without sent_at drift). */
let normalized: ViralEvent[];

async function get(path: string, key = tenant.readKey, accept?: string) {
  const res = await fetch(api.url + path, { headers: { authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) } });
  const body = accept ? new Uint8Array(await res.arrayBuffer()) : await res.json().catch(() => null);
  return { status: res.status, body: body as any };
}

beforeAll(async () => {
  ingest = await startIngest(config);
  processors = await startProcessors(config);
  api = await startApi(config);
  normalized = normalizeAll(demo.events, tenant.appId, config.hashSalt, now);
  const posted = await postBatches(ingest.url, tenant.ingestKey, demo.events, 500, false);
  expect(posted).toEqual({ accepted: demo.events.length, rejected: 0 });
  // Processed: every raw event is in ClickHouse and the graph rows exist.
  await eventually(async () => {
    const [r] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(tenant.appId)}`);
    return Number(r.n) === demo.events.length;
  }, 120_000, 'all demo events in viral.events');
}, 240_000);

afterAll(async () => {
  await api?.close();
  await processors?.close();
  await ingest?.close();
  await ch.close();
});

describe('streaming through Kafka and ClickHouse equals the batch computation', () => {
  it('every derived table equals the pure processors fed the same events in one batch', async () => {
    expect(await derivedDiffsFromBatch(ch, createRegistry(config), normalized, tenant.appId, 60_000)).toEqual([]);
  });

  it('GET /v1/viral/coefficient and /v1/viral/cohorts serve those rows', async () => {
    const procs = createRegistry(config).createProcessors();
    const latest = new Map<string, Record<string, unknown>>();
    for (const p of procs) for (const b of p.apply(normalized, now)) for (const r of b.rows) latest.set(`${b.table}|${r.granularity}|${r.window_start}|${r.channel ?? ''}`, { table: b.table, ...r });
    const daily = [...latest.values()].filter((r) => r.table === 'kfactor_windows' && r.granularity === 'day' && r.channel === 'all' && Number(r.invites_sent) > 0);
    expect(daily.length).toBeGreaterThanOrEqual(5);
    const from = new Date(Math.min(...daily.map((r) => Number(r.window_start))) * 1000).toISOString().replace('.000Z', 'Z');
    const r = await get(`/v1/viral/coefficient?granularity=day&channel=all&from=${from}`);
    expect(r.status).toBe(200);
    expect(r.body.granularity).toBe('day');
    const expected = daily
      .sort((a, b) => Number(a.window_start) - Number(b.window_start))
      .map((w) => ({
        window_start: new Date(Number(w.window_start) * 1000).toISOString().replace('.000Z', 'Z'),
        channel: 'all',
        invites_sent: w.invites_sent,
        inviters: w.inviters,
        invites_accepted: w.invites_accepted,
        conversion_rate: w.conversion_rate,
        invites_per_inviter: w.invites_per_inviter,
        k_factor: w.k_factor,
      }));
    // Float64 values round-trip through ClickHouse's text formats, which may move the last bit.
    expect(r.body.series.map((x: Record<string, unknown>) => ({ ...x, conversion_rate: 0, invites_per_inviter: 0, k_factor: 0 }))).toEqual(
      expected.map((x) => ({ ...x, conversion_rate: 0, invites_per_inviter: 0, k_factor: 0 })),
    );
    r.body.series.forEach((x: Record<string, number>, i: number) => {
      for (const f of ['conversion_rate', 'invites_per_inviter', 'k_factor']) expect(x[f]).toBeCloseTo(Number(expected[i][f as keyof (typeof expected)[number]]), 12);
    });
    // Channel totals of the demo's own ground truth (invitations sent per channel).
    const all = await get(`/v1/viral/coefficient?granularity=week&from=${new Date(now - 20 * 86_400_000).toISOString()}`);
    for (const [channel, t] of Object.entries(demo.truth.channels)) {
      const sent = (all.body.series as { channel: string; invites_sent: number }[]).filter((x) => x.channel === channel).reduce((a, x) => a + x.invites_sent, 0);
      expect(sent, channel).toBe(t.invites_sent);
    }
    const cohorts = await get(`/v1/viral/cohorts?granularity=day&from=${from}`);
    const expectedCohorts = [...latest.values()].filter((x) => x.table === 'cohort_windows' && x.granularity === 'day' && Number(x.cohort_size) > 0);
    expect(cohorts.body.series.map((x: { cohort_size: number }) => x.cohort_size)).toEqual(
      expectedCohorts.sort((a, b) => Number(a.window_start) - Number(b.window_start)).filter((x) => Number(x.window_start) * 1000 >= Date.parse(from)).map((x) => x.cohort_size),
    );
    const arrow = await get(`/v1/viral/coefficient?granularity=day&channel=all&from=${from}`, tenant.readKey, 'application/vnd.apache.arrow.stream');
    expect(tableFromIPC(arrow.body).numRows).toBe(expected.length);
    // Large answers go gzipped to clients that accept it (fetch does), as they are to others.
    const weekly = `${api.url}/v1/viral/coefficient?granularity=hour&from=${from}`;
    const zipped = await fetch(weekly, { headers: { authorization: `Bearer ${tenant.readKey}` } });
    const plain = await fetch(weekly, { headers: { authorization: `Bearer ${tenant.readKey}`, 'accept-encoding': 'identity' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await zipped.json()).toEqual(await plain.json());
    const bad = await get('/v1/viral/coefficient?granularity=month');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^granularity:/);
    expect((await get('/v1/viral/coefficient?channel=all', other.readKey)).body.series).toEqual([]);
  });
});

describe('referral graph routes equal the pure computation', () => {
  const graph = new ReferralGraph();
  beforeAll(() => {
    graph.apply(normalized);
  });

  it('GET /v1/viral/chains: depth statistics', async () => {
    const from = now - 6 * 86_400_000;
    const fromIso = new Date(from).toISOString();
    const toIso = new Date(now + 60_000).toISOString();
    const expected = chainStats(graph.nodes(tenant.appId), Math.floor(from / 1000) * 1000, Math.floor((now + 60_000) / 1000) * 1000);
    expect(expected.referred_users).toBeGreaterThan(50);
    const r = await eventually(async () => {
      const res = await get(`/v1/viral/chains?from=${fromIso}&to=${toIso}`);
      return res.body?.referred_users === expected.referred_users ? res : undefined;
    }, 60_000, 'chain statistics');
    expect(r.body).toEqual(expected);
  });

  it('GET /v1/viral/chains/:userId and /v1/attribution/:userId for the deepest users', async () => {
    const deepest = [...graph.nodes(tenant.appId)].filter((n) => n.depth !== null).sort((a, b) => b.depth! - a.depth!).slice(0, 3);
    expect(deepest[0].depth).toBeGreaterThanOrEqual(3);
    for (const n of deepest) {
      const r = await get(`/v1/viral/chains/${encodeURIComponent(n.user_id)}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        user_id: n.user_id,
        referrer_id: n.referrer_id,
        root_id: n.root_id,
        depth: n.depth,
        ancestors: graph.ancestors(tenant.appId, n.user_id),
        direct_referrals: n.direct_referrals,
        descendants: n.descendants,
        subtree_depth: n.subtree_depth,
      });
      expect(r.body.ancestors).toHaveLength(n.depth!);
    }
    // Attribution of the root of the deepest chain: users from the graph, revenue from the processor.
    const registry = createRegistry(config);
    const procs = registry.createProcessors();
    for (const p of procs) p.apply(normalized, now);
    const attribution = procs.find((p) => p.name === 'attribution') as unknown as { attributionOf(a: string, u: string): unknown };
    const root = deepest[0].root_id!;
    const r = await get(`/v1/attribution/${encodeURIComponent(root)}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ user_id: root, ...(attribution.attributionOf(tenant.appId, root) as object) });
  });

  it('404 for an unknown user, 400 naming a bad parameter, nothing across apps', async () => {
    expect((await get('/v1/viral/chains/nobody-here')).status).toBe(404);
    expect((await get('/v1/attribution/nobody-here')).status).toBe(404);
    const bad = await get('/v1/viral/chains?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^from:/);
    const badTier = await get('/v1/super-connectors?tier=diamond');
    expect(badTier.body.message).toMatch(/^tier:/);
    const user = normalized.find((e) => e.type === 'signup')!.user_id;
    expect((await get(`/v1/viral/chains/${user}`)).status).toBe(200);
    expect((await get(`/v1/viral/chains/${user}`, other.readKey)).status).toBe(404);
    expect((await get(`/v1/fraud/signals`, other.readKey)).body).toEqual([]);
    expect((await get(`/v1/super-connectors`, other.readKey)).body).toEqual([]);
    expect((await get(`/v1/fraud/signals`, tenant.ingestKey)).status).toBe(403);
  });

  it('fraud signals: every injected case is reported, as the fraud processor holds them', async () => {
    const expectedUsers = new Set(demo.truth.fraud.flatMap((c) => c.user_ids));
    expect(expectedUsers.size).toBeGreaterThan(5);
    const from = new Date(now - 6 * 86_400_000).toISOString();
    const r = await eventually(async () => {
      const res = await get(`/v1/fraud/signals?from=${from}&limit=10000`);
      const users = new Set((res.body as { user_id: string }[]).map((s) => s.user_id));
      return [...expectedUsers].every((u) => users.has(u)) ? res : undefined;
    }, 60_000, 'injected fraud users flagged');
    for (const s of r.body) {
      expect(Object.keys(s).sort()).toEqual(['detected_at', 'event_id', 'evidence', 'signal', 'user_id']);
      expect(typeof s.evidence).toBe('object');
    }
    const one = await get(`/v1/fraud/signals?from=${from}&signal=device_reuse&limit=1`);
    expect(one.body).toHaveLength(1);
    expect(one.body[0].signal).toBe('device_reuse');
  });

  it('super-connectors sorted by score, and as an Arrow stream', async () => {
    const r = await get('/v1/super-connectors?limit=50');
    expect(r.status).toBe(200);
    const scores = (r.body as { score: number }[]).map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const arrow = await get('/v1/super-connectors?limit=50', tenant.readKey, 'application/vnd.apache.arrow.stream');
    const table = tableFromIPC(arrow.body);
    expect(table.numRows).toBe(r.body.length);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['user_id', 'score', 'tier', 'quality_referrals', 'indirect_referrals', 'paying_referrals']);
  });
});
