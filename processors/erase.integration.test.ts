// Privacy erase (design §10, issue 8): DELETE /v1/users/:id removes the user's raw events and
// every derived row that includes them, and others' sign-ups stop naming them as referrer; the
// recomputed tables equal the pure processors fed what is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../core/demo/index.ts';
import { normalizeAll } from '../core/testing/compare.ts';
import { eventually, makeTenant, testClickHouse, testConfig } from '../core/testing/services.ts';
import { ident, sql, str } from '../core/clickhouse/sql.ts';
import { startIngest } from '../ingest/main.ts';
import { startApi } from '../api/main.ts';
import { postBatches } from '../loadtest/harness/demo-feed.ts';
import { startProcessors } from './main.ts';
import { ReferralGraph } from './referral-graph/graph.ts';

const tenant = makeTenant('erase');
// Another app on the same processors: its state and rows must not change with the erase.
const other = makeTenant('erase_other');
// Errors of the in-process services are printed: an erase that fails says why.
const config = testConfig([tenant, other], { LOG_LEVEL: 'error' });
const ch = testClickHouse();
const now = Date.now();
const demo = generateDemo({ seed: 99, now, days: 3, seedUsers: 150, fraudPerDay: 0 });
// The user erased: a referrer in the middle of a chain (erasing them changes their children's
// depths and roots) — the accepted user with the most descendants. One more sign-up names them as
// its referrer directly (not through an invitation), which the demo does not always do.
const victim = (() => {
  const g = new ReferralGraph();
  g.apply(normalizeAll(demo.events, tenant.appId, config.hashSalt, now));
  return [...g.nodes(tenant.appId)].filter((n) => n.status === 'accepted').sort((a, b) => b.descendants - a.descendants)[0];
})();
demo.events.push({ event_id: 'e_named_child', type: 'signup', occurred_at: now - 3_600_000, user_id: 'u_named_child', properties: { referrer_id: victim.user_id }, device_id: 'd_named_child' });
const normalized = normalizeAll(demo.events, tenant.appId, config.hashSalt, now);
const otherDemo = generateDemo({ seed: 7, now, days: 2, seedUsers: 60, fraudPerDay: 0 });
const otherNormalized = normalizeAll(otherDemo.events, other.appId, config.hashSalt, now);

let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
let api: Awaited<ReturnType<typeof startApi>>;

type NodeState = { user_id: string; depth: number; status: string; root_id: string; descendants: number };
async function nodes(appId = tenant.appId): Promise<NodeState[]> {
  const rows = await ch.query<NodeState>(
    sql`SELECT user_id, argMax(depth, version) AS depth, toString(argMax(status, version)) AS status, argMax(root_id, version) AS root_id, argMax(descendants, version) AS descendants FROM viral.referral_nodes WHERE app_id = ${str(appId)} GROUP BY user_id ORDER BY user_id`,
  );
  return rows.map((r) => ({ ...r, depth: Number(r.depth), descendants: Number(r.descendants) }));
}
function expectedNodes(events: typeof normalized, appId = tenant.appId): NodeState[] {
  const g = new ReferralGraph();
  g.apply(events);
  return [...g.nodes(appId)]
    .map((n) => ({ user_id: n.user_id, depth: n.depth ?? -1, status: n.status, root_id: n.root_id ?? '', descendants: n.descendants }))
    .sort((a, b) => (a.user_id < b.user_id ? -1 : 1));
}

beforeAll(async () => {
  ingest = await startIngest(config);
  processors = await startProcessors(config);
  api = await startApi(config);
  await postBatches(ingest.url, tenant.ingestKey, demo.events, 500, false);
  await postBatches(ingest.url, other.ingestKey, otherDemo.events, 500, false);
  const expected = expectedNodes(normalized);
  await eventually(async () => JSON.stringify(await nodes()) === JSON.stringify(expected), 120_000, 'graph rows of the demo');
  const expectedOther = expectedNodes(otherNormalized, other.appId);
  await eventually(async () => JSON.stringify(await nodes(other.appId)) === JSON.stringify(expectedOther), 120_000, 'graph rows of the other app');
}, 240_000);
afterAll(async () => {
  await api?.close();
  await processors?.close();
  await ingest?.close();
  await ch.close();
});

describe('DELETE /v1/users/:id', () => {
  it('erases the raw events and rebuilds the derived rows without the user', async () => {
    expect(victim.descendants).toBeGreaterThanOrEqual(1);
    // Before the erase, the stored chains of the victim's descendants (u_named_child too) name them.
    const [named] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.referral_ancestors FINAL WHERE app_id = ${str(tenant.appId)} AND has(ancestors, ${str(victim.user_id)})`);
    expect(Number(named.n)).toBe(victim.descendants + 1);

    const forbidden = await fetch(`${api.url}/v1/users/${victim.user_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tenant.readKey}` } });
    expect(forbidden.status).toBe(403);
    const res = await fetch(`${api.url}/v1/users/${victim.user_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tenant.adminKey}` } });
    expect(res.status).toBe(202);

    // What is left: the user's own events are gone, and others' sign-ups no longer name them.
    const remaining = normalized
      .filter((e) => e.user_id !== victim.user_id)
      .map((e) => (e.referrer_id === victim.user_id ? { ...e, referrer_id: '' } : e));
    const expected = expectedNodes(remaining);
    expect(expected.find((n) => n.user_id === victim.user_id)).toBeUndefined();
    let last: NodeState[] = [];
    await eventually(async () => JSON.stringify((last = await nodes())) === JSON.stringify(expected), 120_000, 'rebuilt graph rows').catch((err: Error) => {
      const actual = new Map(last.map((n) => [n.user_id, JSON.stringify(n)]));
      const wrong = expected.filter((n) => actual.get(n.user_id) !== JSON.stringify(n)).slice(0, 5);
      throw new Error(`${err.message}; ${last.length} rows for ${expected.length} expected; first differences: ${wrong.map((n) => `${JSON.stringify(n)} ≠ ${actual.get(n.user_id)}`).join(', ')}`);
    });
    const [raw] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(tenant.appId)} AND user_id = ${str(victim.user_id)}`);
    expect(raw.n).toBe('0');
    const [naming] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(tenant.appId)} AND referrer_id = ${str(victim.user_id)}`);
    expect(naming.n).toBe('0');
    const [left] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(tenant.appId)}`);
    expect(Number(left.n)).toBe(new Set(remaining.map((e) => e.event_id)).size);
    // The app's older rows are deleted table by table after the rebuild (asynchronous mutations).
    const keys = [
      ['referral_nodes', 'user_id'],
      ['referral_nodes', 'referrer_id'],
      ['referral_ancestors', 'user_id'],
      ['super_connectors', 'user_id'],
      ['fraud_signals', 'user_id'],
      ['referral_attribution', 'referrer_id'],
    ] as const;
    for (const [table, key] of keys) {
      await eventually(async () => {
        const [r] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.${ident(table)} WHERE app_id = ${str(tenant.appId)} AND ${ident(key)} = ${str(victim.user_id)}`);
        return r.n === '0';
      }, 60_000, `no ${table} row about the erased user`);
    }
    await eventually(async () => {
      const [r] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.referral_ancestors WHERE app_id = ${str(tenant.appId)} AND has(ancestors, ${str(victim.user_id)})`);
      return r.n === '0';
    }, 60_000, 'no stored chain naming the erased user');

    // The other app kept its rows and its state: a sign-up referred by its deepest user lands one
    // level below them.
    const before = await nodes(other.appId);
    expect(before).toEqual(expectedNodes(otherNormalized, other.appId));
    const deepest = [...before].sort((a, b) => b.depth - a.depth)[0];
    const late = { event_id: 'e_other_late', type: 'signup' as const, occurred_at: Date.now(), user_id: 'u_other_late', properties: { referrer_id: deepest.user_id }, device_id: 'd_other_late' };
    await postBatches(ingest.url, other.ingestKey, [late], 1, false);
    const expectedOther = expectedNodes([...otherNormalized, ...normalizeAll([late], other.appId, config.hashSalt, Date.now())], other.appId);
    expect(expectedOther.find((n) => n.user_id === 'u_other_late')).toMatchObject({ depth: deepest.depth + 1, root_id: deepest.root_id });
    await eventually(async () => JSON.stringify(await nodes(other.appId)) === JSON.stringify(expectedOther), 60_000, 'the other app’s late sign-up placed in its intact graph');
  }, 300_000);
});
