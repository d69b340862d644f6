// GET /v1/viral/chains/:userId over the rows the referral-graph processor writes: the stored chain
// (viral.referral_ancestors) answers in one lookup when it belongs to the node row, and the
// per-level walk fills in wherever it is missing, cut short, or out of step with the node row.
// The rows are written straight into ClickHouse (the processors' path to them is covered by
// api.integration.test.ts, processors/erase.integration.test.ts and the property test of
// processors/referral-graph), so that each case can be set up exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTenant, testClickHouse, testConfig } from '../core/testing/services.ts';
import { startApi } from './main.ts';

const tenant = makeTenant('chains');
const MAX = 5;
const config = { ...testConfig([tenant]), chainMaxDepth: MAX };
const ch = testClickHouse();
let api: Awaited<ReturnType<typeof startApi>>;

const c = (i: number) => `c${i}`;
type Status = 'root' | 'accepted' | 'pending';
function node(user: string, referrer: string, depth: number, status: Status, root: string) {
  return { app_id: tenant.appId, user_id: user, referrer_id: referrer, root_id: root, depth, status, signup_at: 1_700_000_000, invite_id: '', direct_referrals: 0, descendants: 0, subtree_depth: 0, version: 1 };
}
const stored = (user: string, ancestors: string[]) => ({ app_id: tenant.appId, user_id: user, ancestors, version: 1 });
/** c9 → c8 → … → c0 (root). */
const line = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, k) => c(from - k));

async function chain(user: string) {
  const res = await fetch(`${api.url}/v1/viral/chains/${user}`, { headers: { authorization: `Bearer ${tenant.readKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { ancestors: string[]; ancestors_truncated: boolean; depth: number | null };
}

beforeAll(async () => {
  api = await startApi(config);
  const nodes = [node(c(0), '', 0, 'root', c(0))];
  for (let i = 1; i <= 9; i++) nodes.push(node(c(i), c(i - 1), i, 'accepted', c(0)));
  // A chain whose top waits for its referrer's sign-up (depth unknown).
  nodes.push(node('pend', 'nobody', -1, 'pending', ''), node('below_pend', 'pend', -1, 'accepted', ''));
  // A user whose ancestors have no node rows: only the stored chain can name them.
  nodes.push(node('x3', 'x2', 3, 'accepted', 'x0'));
  await ch.insert('viral.referral_nodes', nodes);
  await ch.insert('viral.referral_ancestors', [
    stored(c(3), line(2, 0)),
    // What the processors keep at CHAIN_MAX_DEPTH 5: six ancestors.
    stored(c(9), line(8, 3)),
    // Written by processors keeping fewer (two) ancestors than this api shows.
    stored(c(4), line(3, 2)),
    // Out of step with the node row (its first entry is not the row's referrer).
    stored(c(2), ['zz', c(0)]),
    stored(c(5), line(4, 0)),
    // Five stored, the chain goes on (processors keeping five).
    stored(c(6), line(5, 1)),
    stored('below_pend', ['pend']),
    stored('x3', ['x2', 'x1', 'x0']),
  ]);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await ch.close();
});

describe('GET /v1/viral/chains/:userId', () => {
  it('answers from the stored chain alone when it is whole', async () => {
    expect(await chain('x3')).toMatchObject({ ancestors: ['x2', 'x1', 'x0'], ancestors_truncated: false, depth: 3 });
    expect(await chain(c(3))).toMatchObject({ ancestors: line(2, 0), ancestors_truncated: false });
    expect(await chain(c(5))).toMatchObject({ ancestors: line(4, 0), ancestors_truncated: false });
  });

  it('cuts at CHAIN_MAX_DEPTH and says the chain goes on', async () => {
    expect(await chain(c(9))).toMatchObject({ ancestors: line(8, 4), ancestors_truncated: true });
    expect(await chain(c(6))).toMatchObject({ ancestors: line(5, 1), ancestors_truncated: true });
  });

  it('walks per level where the stored chain is missing, shorter than asked, or out of step', async () => {
    // No stored row (written before the table existed).
    expect(await chain(c(1))).toMatchObject({ ancestors: [c(0)], ancestors_truncated: false });
    expect(await chain(c(7))).toMatchObject({ ancestors: line(6, 2), ancestors_truncated: true });
    expect(await chain(c(4))).toMatchObject({ ancestors: line(3, 0), ancestors_truncated: false });
    expect(await chain(c(2))).toMatchObject({ ancestors: line(1, 0), ancestors_truncated: false });
  });

  it('ends at a pending user, and a root or pending user has no ancestors', async () => {
    expect(await chain('below_pend')).toMatchObject({ ancestors: ['pend'], ancestors_truncated: false, depth: null });
    expect(await chain('pend')).toMatchObject({ ancestors: [], ancestors_truncated: false, depth: null });
    expect(await chain(c(0))).toMatchObject({ ancestors: [], ancestors_truncated: false, depth: 0 });
  });
});
