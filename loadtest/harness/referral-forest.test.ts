import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import { ReferralGraph } from '../../processors/referral-graph/graph.ts';
import { forestEvents, isRoot, type ForestSpec } from './referral-forest.ts';

const spec: ForestSpec = { users: 20_000, roots: 37, inviteShare: 0.6, seed: 9, appId: 'app', start: Date.UTC(2026, 0, 1) };
const all = (s: ForestSpec): ViralEvent[] => [...forestEvents(s)].flat();

describe('referral forest of the graph benchmark', () => {
  it.each([
    { users: 1_000_000, roots: 1_000 },
    { users: 20_000, roots: 37 },
    { users: 7, roots: 7 },
  ])('isRoot picks exactly $roots of $users users', ({ users, roots }) => {
    let n = 0;
    for (let i = 0; i < users; i++) if (isRoot(i, users, roots)) n++;
    expect(n).toBe(roots);
  });

  it('has one sign-up per user, in time order, every referrer an earlier user', () => {
    const events = all(spec);
    const signups = events.filter((e) => e.type === 'signup');
    expect(signups.length).toBe(spec.users);
    expect(new Set(signups.map((e) => e.user_id)).size).toBe(spec.users);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const seen = new Set<string>();
    const sender = new Map<string, string>();
    let byInvite = 0;
    let roots = 0;
    for (const e of events) {
      if (e.type === 'invite_sent') {
        expect(seen.has(e.user_id)).toBe(true);
        sender.set(e.invite_id, e.user_id);
        continue;
      }
      if (e.invite_id !== '') {
        byInvite++;
        expect(sender.has(e.invite_id)).toBe(true);
      } else if (e.referrer_id !== '') expect(seen.has(e.referrer_id)).toBe(true);
      else roots++;
      seen.add(e.user_id);
    }
    expect(roots).toBe(spec.roots);
    // Binomial(19,963, 0.6): the standard deviation of the share is 0.0035.
    expect(Math.abs(byInvite / (spec.users - spec.roots) - spec.inviteShare)).toBeLessThan(0.02);
  });

  it('is deterministic for a seed and differs for another', () => {
    const small = { ...spec, users: 500 };
    expect(all(small)).toEqual(all(small));
    expect(all({ ...small, seed: 10 }).map((e) => e.referrer_id || e.user_id)).not.toEqual(all(small).map((e) => e.referrer_id || e.user_id));
  });

  it('gives the graph users − roots accepted edges, with the depths of its parent links', () => {
    const events = all(spec);
    const graph = new ReferralGraph();
    for (let i = 0; i < events.length; i += 5000) graph.apply(events.slice(i, i + 5000));
    const sender = new Map(events.filter((e) => e.type === 'invite_sent').map((e) => [e.invite_id, e.user_id]));
    const depth = new Map<string, number>();
    for (const e of events) {
      if (e.type !== 'signup') continue;
      const parent = e.invite_id ? sender.get(e.invite_id)! : e.referrer_id;
      depth.set(e.user_id, parent ? depth.get(parent)! + 1 : 0);
    }
    const nodes = [...graph.nodes('app')];
    expect(nodes.filter((n) => n.status === 'accepted').length).toBe(spec.users - spec.roots);
    for (const n of nodes) expect(n.depth).toBe(depth.get(n.user_id));
  });
});
