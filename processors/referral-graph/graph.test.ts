import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import { ReferralGraph } from './graph.ts';
import { invite, makeEvent, signup } from './test-builders.ts';
import { userKey } from './types.ts';

function build(...batches: ViralEvent[][]): ReferralGraph {
  const g = new ReferralGraph();
  for (const b of batches) g.apply(b);
  return g;
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

const brief = (g: ReferralGraph, u: string) => {
  const n = g.node('app', u);
  return n && { status: n.status, referrer: n.referrer_id, depth: n.depth, root: n.root_id };
};

describe('ReferralGraph edges (design §5)', () => {
  it('builds a chain with depth, root and subtree statistics', () => {
    const g = build([signup('a', 1), signup('b', 2, { ref: 'a' }), signup('c', 3, { ref: 'b' }), signup('d', 4, { ref: 'c' }), signup('e', 5, { ref: 'a' })]);
    expect(brief(g, 'd')).toEqual({ status: 'accepted', referrer: 'c', depth: 3, root: 'a' });
    expect(g.node('app', 'a')).toMatchObject({ status: 'root', depth: 0, root_id: 'a', direct_referrals: 2, descendants: 4, subtree_depth: 3, indirect_referrals: 2 });
    expect(g.node('app', 'b')).toMatchObject({ direct_referrals: 1, descendants: 2, subtree_depth: 2, indirect_referrals: 1 });
    expect(g.ancestors('app', 'd')).toEqual(['c', 'b', 'a']);
    expect(g.ancestors('app', 'd', 2)).toEqual(['c', 'b']);
    expect(g.children('app', 'a').sort()).toEqual(['b', 'e']);
  });

  it.each([
    { description: 'referral code', events: [signup('a', 1, { ref: 'a' })] },
    { description: 'own invitation', events: [invite('a', 'i1', 0), signup('a', 1, { invite: 'i1' })] },
  ])('rejects a self-referral by $description: a depth-0 root that is reported', ({ events }) => {
    const g = new ReferralGraph();
    const change = g.apply(events);
    expect(brief(g, 'a')).toEqual({ status: 'self_referral', referrer: 'a', depth: 0, root: 'a' });
    expect(change.self_referrals.map((s) => s.event_id)).toEqual([events[events.length - 1].event_id]);
  });

  it('never creates an edge from a later sign-up, but reports a later self-referring one', () => {
    const g = build([signup('a', 1), signup('b', 2)]);
    const later = signup('b', 9, { ref: 'a' });
    const self = signup('b', 10, { ref: 'b' });
    const change = g.apply([later, self]);
    expect(brief(g, 'b')).toEqual({ status: 'root', referrer: '', depth: 0, root: 'b' });
    expect(change.self_referrals.map((s) => s.event_id)).toEqual([self.event_id]);
  });

  it('reports a later self-referring sign-up once its invitation arrives', () => {
    const g = build([signup('a', 1)]);
    const s = signup('a', 5, { invite: 'own' });
    expect(g.apply([s]).self_referrals).toEqual([]);
    expect(g.apply([invite('a', 'own', 3)]).self_referrals.map((r) => r.event_id)).toEqual([s.event_id]);
  });

  // a names b, b names c, c names a; first sign-ups a=1, b=2, c=3: c's edge closes the cycle in
  // first-sign-up order and is the one rejected, in every arrival order.
  const ring = [signup('a', 1, { ref: 'b' }), signup('b', 2, { ref: 'c' }), signup('c', 3, { ref: 'a' })];
  it.each(permutations(ring).map((events, i) => ({ events, description: `order ${i}` })))('rejects the latest edge of a cycle ($description)', ({ events }) => {
    const g = new ReferralGraph();
    for (const e of events) g.apply([e]);
    expect(brief(g, 'c')).toEqual({ status: 'cycle', referrer: 'a', depth: 0, root: 'c' });
    expect(brief(g, 'b')).toEqual({ status: 'accepted', referrer: 'c', depth: 1, root: 'c' });
    expect(brief(g, 'a')).toEqual({ status: 'accepted', referrer: 'b', depth: 2, root: 'c' });
    expect(g.node('app', 'c')).toMatchObject({ descendants: 2, subtree_depth: 2 });
  });

  it('moves the rejection when an earlier first sign-up re-orders the cycle', () => {
    const g = build(ring);
    g.apply([signup('a', 5, { ref: 'b' }), signup('a', 0.5, { ref: 'b' })]); // 5 is ignored: later than 1
    // first sign-ups now a=0.5, b=2, c=3: c is still the latest
    expect(brief(g, 'c')?.status).toBe('cycle');
    g.apply([signup('c', 0.1, { ref: 'a' })]); // now b (2) is the latest
    expect(brief(g, 'b')).toEqual({ status: 'cycle', referrer: 'c', depth: 0, root: 'b' });
    expect(brief(g, 'a')).toEqual({ status: 'accepted', referrer: 'b', depth: 1, root: 'b' });
    expect(brief(g, 'c')).toEqual({ status: 'accepted', referrer: 'a', depth: 2, root: 'b' });
  });

  it('re-accepts the rejected edge when a cycle is broken', () => {
    const g = build(ring);
    g.apply([signup('b', 1.5)]); // b's first sign-up now names nobody: the ring is open
    expect(brief(g, 'b')).toEqual({ status: 'root', referrer: '', depth: 0, root: 'b' });
    expect(brief(g, 'a')).toEqual({ status: 'accepted', referrer: 'b', depth: 1, root: 'b' });
    expect(brief(g, 'c')).toEqual({ status: 'accepted', referrer: 'a', depth: 2, root: 'b' });
  });

  it('waits for a referrer who has not signed up, then corrects the whole subtree', () => {
    const g = build([signup('c', 3, { ref: 'b' }), signup('d', 4, { ref: 'c' })], [signup('b', 2, { ref: 'a' })]);
    expect(brief(g, 'b')).toEqual({ status: 'pending', referrer: 'a', depth: null, root: null });
    expect(brief(g, 'd')).toEqual({ status: 'accepted', referrer: 'c', depth: null, root: null });
    expect(g.node('app', 'b')).toMatchObject({ descendants: 2, subtree_depth: 2 });
    const change = g.apply([signup('a', 1)]);
    expect(brief(g, 'd')).toEqual({ status: 'accepted', referrer: 'c', depth: 3, root: 'a' });
    expect([...change.users].sort()).toEqual(['a', 'b', 'c', 'd'].map((u) => userKey('app', u)));
    expect([...change.apps.get('app')!.moved].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('waits for an unknown invitation; its sender becomes the referrer when it arrives', () => {
    const g = build([signup('s', 1), signup('u', 5, { invite: 'i9' })]);
    expect(brief(g, 'u')).toEqual({ status: 'pending', referrer: '', depth: null, root: null });
    g.apply([invite('s', 'i9', 2)]);
    expect(brief(g, 'u')).toEqual({ status: 'accepted', referrer: 's', depth: 1, root: 's' });
    expect(g.acceptors('app', 'i9').map((n) => n.user_id)).toEqual(['u']);
  });

  it('uses referrer_id while the invitation is unknown, then moves the edge to the sender', () => {
    const g = build([signup('s', 1), signup('r', 1), signup('u', 5, { invite: 'i1', ref: 'r' })]);
    expect(brief(g, 'u')).toMatchObject({ status: 'accepted', referrer: 'r' });
    g.apply([invite('s', 'i1', 2)]);
    expect(brief(g, 'u')).toMatchObject({ status: 'accepted', referrer: 's' });
    expect(g.node('app', 'r')?.direct_referrals).toBe(0);
  });

  it('keeps the earliest invite_sent per invite_id', () => {
    const g = build([signup('x', 0), signup('y', 0), signup('u', 5, { invite: 'i1' })], [invite('x', 'i1', 3)], [invite('y', 'i1', 2), invite('x', 'i1', 4)]);
    expect(g.invitation('app', 'i1')).toMatchObject({ sender_id: 'y', sent_at: 2, channel: 'email' });
    expect(brief(g, 'u')?.referrer).toBe('y');
  });

  it('lets an earlier, late-arriving first sign-up replace the referrer', () => {
    const g = build([signup('a', 0), signup('b', 0), signup('u', 5, { ref: 'a' })], [signup('u', 3, { ref: 'b' })]);
    expect(g.node('app', 'u')).toMatchObject({ referrer_id: 'b', signup_at: 3 });
    expect(g.node('app', 'a')?.descendants).toBe(0);
    expect(g.node('app', 'b')?.descendants).toBe(1);
  });

  it('re-emits a duplicate first sign-up with its chain and subtree', () => {
    const s = signup('b', 2, { ref: 'a' });
    const g = build([signup('a', 1), s, signup('c', 3, { ref: 'b' })]);
    const change = g.apply([s]);
    expect([...change.apps.get('app')!.users].sort()).toEqual(['a', 'b', 'c']);
    expect([...change.apps.get('app')!.moved].sort()).toEqual(['b', 'c']);
  });

  it('is deterministic: the same input twice gives equal graphs', () => {
    const events = [signup('a', 1), invite('a', 'i', 2), signup('b', 3, { invite: 'i' }), signup('c', 4, { ref: 'b' }), signup('d', 5, { ref: 'd' })];
    const nodes = (g: ReferralGraph) => [...g.nodes('app')].sort((x, y) => x.user_id.localeCompare(y.user_id));
    expect(nodes(build(events))).toEqual(nodes(build(events)));
    expect(nodes(build(events)).map((n) => n.depth)).toEqual([0, 1, 2, 0]);
  });

  it('hands each subscriber every change since its last drain', () => {
    const g = new ReferralGraph();
    const sub = g.subscribe();
    g.apply([signup('a', 1)]);
    g.apply([signup('b', 2, { ref: 'a' })]);
    expect([...sub.drain().apps.get('app')!.users].sort()).toEqual(['a', 'b']);
    expect(sub.drain().apps.size).toBe(0);
  });

  describe('robustness to invalid data', () => {
    it('ignores event types other than invite_sent and signup, and invitations without id', () => {
      const g = new ReferralGraph();
      const change = g.apply([makeEvent({ type: 'invite_opened', user_id: 'a', occurred_at: 1, invite_id: 'i' }), invite('a', '', 1), makeEvent({ type: 'purchase', user_id: 'a', occurred_at: 1 })]);
      expect(change.users.size).toBe(0);
      expect(g.invitation('app', '')).toBeUndefined();
      expect(g.node('app', 'a')).toBeUndefined();
    });

    it('keeps apps apart', () => {
      const g = build([signup('a', 1, { app: 'x' }), signup('b', 2, { ref: 'a', app: 'x' }), signup('b', 2, { ref: 'a', app: 'y' })]);
      expect(g.node('x', 'b')?.status).toBe('accepted');
      expect(g.node('y', 'b')?.status).toBe('pending');
      expect(g.node('app', 'b')).toBeUndefined();
    });
  });
});
