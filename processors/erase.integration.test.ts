// Privacy erase (design §10, issue 8): DELETE /v1/users/:id removes the user's raw events and
// every derived row that includes them; the recomputed tables equal the pure processors fed the
// events without that user.
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
// Errors of the in-process services are printed: an erase that fails says why.
const config = testConfig([tenant], { LOG_LEVEL: 'error' });
const ch = testClickHouse();
const now = Date.now();
const demo = generateDemo({ seed: 99, now, days: 3, seedUsers: 150, fraudPerDay: 0 });
const normalized = normalizeAll(demo.events, tenant.appId, config.hashSalt, now);

let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
let api: Awaited<ReturnType<typeof startApi>>;

type NodeState = { user_id: string; depth: number; status: string; root_id: string; descendants: number };
async function nodes(): Promise<NodeState[]> {
  const rows = await ch.query<NodeState>(
    sql`SELECT user_id, argMax(depth, version) AS depth, toString(argMax(status, version)) AS status, argMax(root_id, version) AS root_id, argMax(descendants, version) AS descendants FROM viral.referral_nodes WHERE app_id = ${str(tenant.appId)} GROUP BY user_id ORDER BY user_id`,
  );
  return rows.map((r) => ({ ...r, depth: Number(r.depth), descendants: Number(r.descendants) }));
}
function expectedNodes(events: typeof normalized): NodeState[] {
  const g = new ReferralGraph();
  g.apply(events);
  return [...g.nodes(tenant.appId)]
    .map((n) => ({ user_id: n.user_id, depth: n.depth ?? -1, status: n.status, root_id: n.root_id ?? '', descendants: n.descendants }))
    .sort((a, b) => (a.user_id < b.user_id ? -1 : 1));
}

beforeAll(async () => {
  ingest = await startIngest(config);
  processors = await startProcessors(config);
  api = await startApi(config);
  await postBatches(ingest.url, tenant.ingestKey, demo.events, 500, false);
  const expected = expectedNodes(normalized);
  await eventually(async () => JSON.stringify(await nodes()) === JSON.stringify(expected), 120_000, 'graph rows of the demo');
}, 240_000);
afterAll(async () => {
  await api?.close();
  await processors?.close();
  await ingest?.close();
  await ch.close();
});

describe('DELETE /v1/users/:id', () => {
  it('erases the raw events and rebuilds the derived rows without the user', async () => {
    // A referrer in the middle of a chain: erasing them changes their children's depths and roots.
    const g = new ReferralGraph();
    g.apply(normalized);
    const victim = [...g.nodes(tenant.appId)].filter((n) => n.status === 'accepted').sort((a, b) => b.descendants - a.descendants)[0];
    expect(victim.descendants).toBeGreaterThanOrEqual(1);

    const forbidden = await fetch(`${api.url}/v1/users/${victim.user_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tenant.readKey}` } });
    expect(forbidden.status).toBe(403);
    const res = await fetch(`${api.url}/v1/users/${victim.user_id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tenant.adminKey}` } });
    expect(res.status).toBe(202);

    const remaining = normalized.filter((e) => e.user_id !== victim.user_id);
    const expected = expectedNodes(remaining);
    expect(expected.find((n) => n.user_id === victim.user_id)).toBeUndefined();
    await eventually(async () => JSON.stringify(await nodes()) === JSON.stringify(expected), 200_000, 'rebuilt graph rows');
    const [raw] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(tenant.appId)} AND user_id = ${str(victim.user_id)}`);
    expect(raw.n).toBe('0');
    // The app's older rows are deleted table by table after the rebuild (asynchronous mutations).
    for (const table of ['referral_nodes', 'super_connectors', 'fraud_signals', 'referral_attribution']) {
      const key = table === 'referral_attribution' ? 'referrer_id' : 'user_id';
      await eventually(async () => {
        const [r] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.${ident(table)} WHERE app_id = ${str(tenant.appId)} AND ${ident(key)} = ${str(victim.user_id)}`);
        return r.n === '0';
      }, 60_000, `no ${table} row about the erased user`);
    }
  }, 300_000);
});
