// Cohort K processor (design §5), edge cases, through the real referral graph.
import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import type { Granularity } from '../../core/time.ts';
import { COHORT_TABLE } from './compute.ts';
import { createPipeline, keyOf, makeEvent, runStreaming } from '../k-factor/testing.ts';

let seq = 0;
const invite = (user: string, inviteId: string, at: string): ViralEvent =>
  makeEvent({ event_id: `s${++seq}`, type: 'invite_sent', user_id: user, invite_id: inviteId, channel: 'email', at });
const signup = (user: string, at: string, fields: Partial<ViralEvent> = {}): ViralEvent =>
  makeEvent({ event_id: `u${++seq}`, type: 'signup', user_id: user, at, ...fields });

/** Final cohort_windows rows (last write per key, without version) after feeding the batches in order. */
function run(batches: ViralEvent[][]) {
  const table = runStreaming({ batches, restarts: [] }).get(COHORT_TABLE) ?? new Map();
  return (granularity: Granularity, start: string) => table.get(keyOf[COHORT_TABLE]({ app_id: 'app', granularity, window_start: Date.parse(start) / 1000 }));
}

const cohort = (size: number, referred: number) => ({ cohort_size: size, referred_signups: referred, cohort_k: size === 0 ? 0 : referred / size });

describe('CohortProcessor', () => {
  it('credits accepted referrals, by invitation or by referral code, to the referrer’s sign-up cohort', () => {
    const row = run([
      [
        signup('alice', '2025-03-10T09:00:00Z'),
        signup('bob', '2025-03-10T15:00:00Z'),
        invite('alice', 'i1', '2025-03-11T08:00:00Z'),
        signup('carol', '2025-03-12T08:00:00Z', { invite_id: 'i1' }),
        signup('dan', '2025-03-12T09:00:00Z', { referrer_id: 'alice' }),
        signup('erin', '2025-03-12T10:00:00Z', { referrer_id: 'bob' }),
      ],
    ]);
    // Cohort of Mon 2025-03-10: alice and bob, 3 referrals (carol, dan by alice; erin by bob).
    expect(row('day', '2025-03-10T00:00:00Z')).toMatchObject(cohort(2, 3));
    expect(row('hour', '2025-03-10T09:00:00Z')).toMatchObject(cohort(1, 2));
    expect(row('hour', '2025-03-10T15:00:00Z')).toMatchObject(cohort(1, 1));
    expect(row('day', '2025-03-12T00:00:00Z')).toMatchObject(cohort(3, 0));
    // Week of Mon 2025-03-10 holds all five users and the three referrals.
    expect(row('week', '2025-03-10T00:00:00Z')).toMatchObject(cohort(5, 3));
  });

  it('counts a referral "at any time so far": months later, in the referrer’s original cohort', () => {
    const row = run([[signup('alice', '2025-01-02T09:00:00Z')], [signup('carol', '2025-04-20T08:00:00Z', { referrer_id: 'alice' })]]);
    expect(row('day', '2025-01-02T00:00:00Z')).toMatchObject(cohort(1, 1));
  });

  it('counts a pending edge only once the referrer signs up', () => {
    const p = createPipeline();
    const first = p.apply([signup('carol', '2025-03-12T08:00:00Z', { referrer_id: 'alice' })], 1)[1].rows;
    expect(first.map((r) => r.referred_signups)).toEqual([0, 0, 0]);
    const row = run([[signup('carol', '2025-03-12T08:00:00Z', { referrer_id: 'alice' })], [signup('alice', '2025-03-11T08:00:00Z')]]);
    expect(row('day', '2025-03-11T00:00:00Z')).toMatchObject(cohort(1, 1));
  });

  it('does not credit self-referrals or the edge that closes a cycle', () => {
    const row = run([
      [
        signup('alice', '2025-03-10T09:00:00Z', { referrer_id: 'alice' }),
        // bob and carol name each other; carol signed up later, so her edge is the rejected one.
        signup('bob', '2025-03-11T09:00:00Z', { referrer_id: 'carol' }),
        signup('carol', '2025-03-11T10:00:00Z', { referrer_id: 'bob' }),
      ],
    ]);
    expect(row('day', '2025-03-10T00:00:00Z')).toMatchObject(cohort(1, 0));
    expect(row('hour', '2025-03-11T10:00:00Z')).toMatchObject(cohort(1, 1)); // carol referred bob
    expect(row('hour', '2025-03-11T09:00:00Z')).toMatchObject(cohort(1, 0));
  });

  it('moves a user, and the referrals credited to them, when an earlier first sign-up arrives late', () => {
    const row = run([
      [signup('alice', '2025-03-12T09:00:00Z'), signup('carol', '2025-03-13T09:00:00Z', { referrer_id: 'alice' })],
      [signup('alice', '2025-03-05T09:00:00Z')],
    ]);
    expect(row('day', '2025-03-05T00:00:00Z')).toMatchObject(cohort(1, 1));
    expect(row('day', '2025-03-12T00:00:00Z')).toMatchObject(cohort(0, 0));
  });

  it('puts a sign-up on Wed 2025-01-01 in the week cohort of Mon 2024-12-30, and Monday 00:00 in the new week', () => {
    const row = run([[signup('alice', '2025-01-01T00:00:00Z'), signup('bob', '2025-01-06T00:00:00.000Z'), signup('carol', '2025-01-05T23:59:59.999Z')]]);
    expect(row('week', '2024-12-30T00:00:00Z')).toMatchObject(cohort(2, 0));
    expect(row('week', '2025-01-06T00:00:00Z')).toMatchObject(cohort(1, 0));
  });

  it('ignores events that are not sign-ups or invitations', () => {
    const rows = createPipeline().apply([makeEvent({ event_id: 'p1', type: 'purchase', user_id: 'alice', order_id: 'o1', amount: 5, currency: 'EUR', at: '2025-03-12T08:00:00Z' })], 1);
    expect(rows.find((b) => b.table === COHORT_TABLE)?.rows).toEqual([]);
  });

  it('is deterministic: the same batches give the same rows (apart from version)', () => {
    const batches = [[signup('alice', '2025-03-10T09:00:00Z'), signup('dan', '2025-03-12T09:00:00Z', { referrer_id: 'alice' })], [signup('dan', '2025-03-12T09:00:00Z', { event_id: 'dup' })]];
    const strip = () => {
      const p = createPipeline();
      return batches.flatMap((b, i) => p.apply(b, i)).flatMap((b) => b.rows.map(({ version: _v, ...r }) => ({ table: b.table, ...r })));
    };
    expect(strip()).toEqual(strip());
  });
});
