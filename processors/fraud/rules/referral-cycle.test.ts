import { describe, expect, it } from 'vitest';
import type { EdgeStatus, UserNode } from '../../referral-graph/types.ts';
import { findCycle, referralCycle } from './referral-cycle.ts';

const pointers = (edges: Record<string, string | undefined>) => (u: string) => edges[u];
const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const node = (user_id: string, referrer_id: string, status: EdgeStatus, i: number): UserNode => ({
  app_id: 'a1',
  user_id,
  signup_event_id: `su-${user_id}`,
  signup_at: T + i * 1000,
  invite_id: '',
  referrer_id,
  status,
  depth: null,
  root_id: null,
});

describe('findCycle', () => {
  it.each([
    { edges: { a: 'b', b: 'c', c: 'a' }, start: 'a', expected: ['a', 'b', 'c'], description: 'a ring through the start' },
    { edges: { x: 'a', a: 'b', b: 'a' }, start: 'x', expected: ['a', 'b'], description: 'a ring reached from a tail' },
    { edges: { a: 'b', b: 'c' }, start: 'a', expected: null, description: 'a chain to a root' },
    { edges: { a: 'a' }, start: 'a', expected: null, description: 'a self edge (that is self_referral)' },
  ])('$description', ({ edges, start, expected }) => {
    expect(findCycle(start, pointers(edges))).toEqual(expected);
  });
});

describe('referralCycle', () => {
  const nodes = new Map([
    ['a', node('a', 'c', 'accepted', 0)],
    ['b', node('b', 'a', 'accepted', 1)],
    ['c', node('c', 'b', 'cycle', 2)],
  ]);

  it('flags every ring member at their first sign-up, each with the ring seen from them', () => {
    expect(referralCycle(['a', 'c', 'b'], (u) => nodes.get(u))).toEqual([
      { user_id: 'a', signal: 'referral_cycle', event_id: 'su-a', at: T, evidence: { referrer_id: 'c', invite_id: '', cycle: ['a', 'c', 'b'] } },
      { user_id: 'c', signal: 'referral_cycle', event_id: 'su-c', at: T + 2000, evidence: { referrer_id: 'b', invite_id: '', cycle: ['c', 'b', 'a'] } },
      { user_id: 'b', signal: 'referral_cycle', event_id: 'su-b', at: T + 1000, evidence: { referrer_id: 'a', invite_id: '', cycle: ['b', 'a', 'c'] } },
    ]);
  });

  it('stays silent while the graph has rejected none of the ring’s edges', () => {
    const open = new Map([...nodes].map(([k, n]) => [k, { ...n, status: 'accepted' as const }]));
    expect(referralCycle(['a', 'c', 'b'], (u) => open.get(u))).toEqual([]);
  });
});
