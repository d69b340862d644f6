// Viral coefficient processor (design §5), edge cases of issue 3, through the real referral graph.
import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import type { Granularity } from '../../core/time.ts';
import { KFACTOR_TABLE, kFactorMetrics, type KFactorChannel, type KFactorOptions } from './compute.ts';
import { createPipeline, keyOf, makeEvent, runStreaming } from './testing.ts';

let seq = 0;
const invite = (user: string, inviteId: string, at: string, channel: ViralEvent['channel'] = 'email', app = 'app'): ViralEvent =>
  makeEvent({ app_id: app, event_id: `s${++seq}`, type: 'invite_sent', user_id: user, invite_id: inviteId, channel, at });
const signup = (user: string, at: string, fields: Partial<ViralEvent> = {}): ViralEvent =>
  makeEvent({ event_id: `u${++seq}`, type: 'signup', user_id: user, at, ...fields });

/** Final kfactor_windows rows (last write per key, without version) after feeding the batches in order. */
function run(batches: ViralEvent[][], options: KFactorOptions = {}) {
  const table = runStreaming({ batches, restarts: [] }, () => createPipeline(options)).get(KFACTOR_TABLE) ?? new Map();
  return (granularity: Granularity, start: string, channel: KFactorChannel = 'all', app = 'app') =>
    table.get(keyOf[KFACTOR_TABLE]({ app_id: app, granularity, window_start: Date.parse(start) / 1000, channel }));
}

/** The §5 row fields for the three counts. */
const expected = (sent: number, inviters: number, accepted: number) => ({
  invites_sent: sent,
  inviters,
  invites_accepted: accepted,
  ...kFactorMetrics(sent, inviters, accepted),
});

describe('kFactorMetrics (§5 formulas)', () => {
  it.each([
    { description: 'no invitations: all ratios 0, not NaN', sent: 0, inviters: 0, accepted: 0, conversion: 0, perInviter: 0 },
    { description: '3 invitations from 2 senders, 1 accepted', sent: 3, inviters: 2, accepted: 1, conversion: 1 / 3, perInviter: 3 / 2 },
    { description: 'every invitation accepted', sent: 4, inviters: 4, accepted: 4, conversion: 1, perInviter: 1 },
  ])('$description', ({ sent, inviters, accepted, conversion, perInviter }) => {
    const m = kFactorMetrics(sent, inviters, accepted);
    expect(m.conversion_rate).toBe(conversion);
    expect(m.invites_per_inviter).toBe(perInviter);
    expect(m.k_factor).toBe(perInviter * conversion);
  });
});

describe('KFactorProcessor', () => {
  it('counts distinct invitations and inviters per channel and `all`, in every granularity', () => {
    const row = run([
      [
        invite('alice', 'i1', '2025-03-12T10:05:00Z', 'email'),
        invite('alice', 'i2', '2025-03-12T10:30:00Z', 'sms'),
        invite('bob', 'i3', '2025-03-12T10:59:59.999Z', 'email'),
        signup('carol', '2025-03-12T12:00:00Z', { invite_id: 'i1' }),
      ],
    ]);
    // all: 3 invitations, 2 senders, 1 accepted → k = 1.5 × 1/3.
    for (const [g, start] of [['hour', '2025-03-12T10:00:00Z'], ['day', '2025-03-12T00:00:00Z'], ['week', '2025-03-10T00:00:00Z']] as const) {
      expect(row(g, start)).toMatchObject(expected(3, 2, 1));
    }
    expect(row('hour', '2025-03-12T10:00:00Z', 'email')).toMatchObject(expected(2, 2, 1));
    expect(row('hour', '2025-03-12T10:00:00Z', 'sms')).toMatchObject(expected(1, 1, 0));
    expect(row('hour', '2025-03-12T10:00:00Z', 'whatsapp')).toBeUndefined();
  });

  it('writes no row without invitations', () => {
    const rows = createPipeline().apply([signup('carol', '2025-03-12T12:00:00Z'), makeEvent({ event_id: 'o1', type: 'invite_opened', user_id: 'x', invite_id: 'i9', at: '2025-03-12T12:00:00Z' })], 1);
    expect(rows.find((b) => b.table === KFACTOR_TABLE)?.rows).toEqual([]);
  });

  it('counts an invitation accepted by two people (shared link) once', () => {
    const row = run([[invite('alice', 'i1', '2025-03-12T10:00:00Z', 'link'), signup('carol', '2025-03-12T11:00:00Z', { invite_id: 'i1' }), signup('dan', '2025-03-12T11:30:00Z', { invite_id: 'i1' })]]);
    expect(row('day', '2025-03-12T00:00:00Z', 'link')).toMatchObject(expected(1, 1, 1));
  });

  it('credits an acceptance that arrives before its invitation once both are known, to the sending window', () => {
    const row = run([[signup('carol', '2025-03-20T09:00:00Z', { invite_id: 'i1' })], [invite('alice', 'i1', '2025-03-12T10:00:00Z')]]);
    expect(row('day', '2025-03-12T00:00:00Z')).toMatchObject(expected(1, 1, 1));
    expect(row('day', '2025-03-20T00:00:00Z')).toBeUndefined();
  });

  it.each([
    { description: 'exactly 30 days after sending: accepted', after: 30 * 86_400_000, accepted: 1, options: {} },
    { description: '1 ms past 30 days: not accepted', after: 30 * 86_400_000 + 1, accepted: 0, options: {} },
    { description: 'an hour BEFORE sending (client clock error): accepted, no lower bound', after: -3_600_000, accepted: 1, options: {} },
    { description: '8 days with a 7-day attribution window: not accepted', after: 8 * 86_400_000, accepted: 0, options: { attributionWindowDays: 7 } },
  ])('attribution window: $description', ({ after, accepted, options }) => {
    const sent = '2025-03-12T10:00:00Z';
    const row = run([[invite('alice', 'i1', sent), signup('carol', new Date(Date.parse(sent) + after).toISOString(), { invite_id: 'i1' })]], options);
    expect(row('hour', '2025-03-12T10:00:00Z')).toMatchObject(expected(1, 1, accepted));
  });

  it('a later acceptance (another user within the window) still credits a late-accepted invitation once', () => {
    const row = run([[invite('alice', 'i1', '2025-03-01T10:00:00Z'), signup('carol', '2025-04-05T00:00:00Z', { invite_id: 'i1' })], [signup('dan', '2025-03-20T00:00:00Z', { invite_id: 'i1' })]]);
    expect(row('day', '2025-03-01T00:00:00Z')).toMatchObject(expected(1, 1, 1));
  });

  it('excludes self-referrals: the sender accepting their own invitation', () => {
    const row = run([[invite('alice', 'i1', '2025-03-12T10:00:00Z'), signup('alice', '2025-03-12T11:00:00Z', { invite_id: 'i1' })]]);
    expect(row('day', '2025-03-12T00:00:00Z')).toMatchObject(expected(1, 1, 0));
  });

  it('excludes the acceptance that closes a referral cycle (the later sign-up), keeps the other', () => {
    // alice invites bob (bob accepts) and bob invites alice (alice accepts, later): alice's edge closes the ring.
    const row = run([
      [invite('alice', 'ia', '2025-03-12T09:00:00Z'), invite('bob', 'ib', '2025-03-12T09:10:00Z')],
      [signup('alice', '2025-03-12T09:30:00Z', { invite_id: 'ib' })],
      [signup('bob', '2025-03-12T09:20:00Z', { invite_id: 'ia' })],
    ]);
    expect(row('hour', '2025-03-12T09:00:00Z')).toMatchObject(expected(2, 2, 1));
  });

  it("ignores a user's later sign-up: only the first sign-up accepts an invitation", () => {
    const row = run([[invite('alice', 'i1', '2025-03-12T10:00:00Z'), signup('carol', '2025-03-12T10:30:00Z'), signup('carol', '2025-03-12T11:00:00Z', { invite_id: 'i1' })]]);
    expect(row('day', '2025-03-12T00:00:00Z')).toMatchObject(expected(1, 1, 0));
  });

  it('places an invitation by its earliest invite_sent and rewrites the window it leaves with zeros', () => {
    const late = invite('alice', 'i1', '2025-03-13T10:00:00Z', 'sms');
    const early = invite('bob', 'i1', '2025-03-12T10:00:00Z', 'email');
    const row = run([[late], [early]]);
    expect(row('day', '2025-03-12T00:00:00Z', 'email')).toMatchObject(expected(1, 1, 0));
    expect(row('day', '2025-03-13T00:00:00Z', 'sms')).toMatchObject(expected(0, 0, 0));
    expect(row('day', '2025-03-13T00:00:00Z')).toMatchObject(expected(0, 0, 0));
  });

  it.each([
    { description: 'Wed 2025-01-01 is in the week starting Mon 2024-12-30', at: '2025-01-01T12:00:00Z', week: '2024-12-30T00:00:00Z', day: '2025-01-01T00:00:00Z', hour: '2025-01-01T12:00:00Z' },
    { description: 'Monday 00:00:00.000 starts a new week', at: '2025-01-06T00:00:00.000Z', week: '2025-01-06T00:00:00Z', day: '2025-01-06T00:00:00Z', hour: '2025-01-06T00:00:00Z' },
    { description: 'Sunday 23:59:59.999 is still the previous week', at: '2025-01-05T23:59:59.999Z', week: '2024-12-30T00:00:00Z', day: '2025-01-05T00:00:00Z', hour: '2025-01-05T23:00:00Z' },
  ])('windows at boundaries: $description', ({ at, week, day, hour }) => {
    const row = run([[invite('alice', 'i1', at)]]);
    expect(row('week', week)).toMatchObject(expected(1, 1, 0));
    expect(row('day', day)).toMatchObject(expected(1, 1, 0));
    expect(row('hour', hour)).toMatchObject(expected(1, 1, 0));
  });

  it('re-emits the current rows of the windows a duplicate event touches', () => {
    const sent = invite('alice', 'i1', '2025-03-12T10:00:00Z');
    const accept = signup('carol', '2025-03-12T11:00:00Z', { invite_id: 'i1' });
    const p = createPipeline();
    const first = p.apply([sent, accept], 1)[0].rows;
    const again = p.apply([accept], 2)[0].rows;
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ version: _v, ...r }) => r).sort((a, b) => (keyOf[KFACTOR_TABLE](a) < keyOf[KFACTOR_TABLE](b) ? -1 : 1));
    expect(again).toHaveLength(6); // hour, day, week × email, all
    expect(strip(again)).toEqual(strip(first));
    expect(Math.min(...again.map((r) => r.version as number))).toBeGreaterThan(Math.max(...first.map((r) => r.version as number)));
  });

  it('keeps apps apart even with the same user and invite ids', () => {
    const row = run([[invite('alice', 'i1', '2025-03-12T10:00:00Z', 'email', 'a1'), invite('alice', 'i1', '2025-03-12T10:00:00Z', 'email', 'a2'), signup('carol', '2025-03-12T11:00:00Z', { app_id: 'a2', invite_id: 'i1' })]]);
    expect(row('day', '2025-03-12T00:00:00Z', 'all', 'a1')).toMatchObject(expected(1, 1, 0));
    expect(row('day', '2025-03-12T00:00:00Z', 'all', 'a2')).toMatchObject(expected(1, 1, 1));
  });

  it('is deterministic: the same batches give the same rows (apart from version)', () => {
    const batches = [
      [invite('alice', 'i1', '2025-03-12T10:00:00Z'), invite('bob', 'i2', '2025-03-12T11:00:00Z', 'whatsapp')],
      [signup('carol', '2025-03-12T12:00:00Z', { invite_id: 'i2' }), signup('dan', '2025-03-13T12:00:00Z', { referrer_id: 'alice' })],
    ];
    const strip = () => {
      const p = createPipeline();
      return batches.flatMap((b, i) => p.apply(b, i)).flatMap((b) => b.rows.map(({ version: _v, ...r }) => ({ table: b.table, ...r })));
    };
    expect(strip()).toEqual(strip());
  });
});
