// referral_cycle (design §5): "an edge that would close a cycle [is] rejected (and raise[s] fraud
// signals)". A ring A → B → C → A is one act by its members, and which of its edges the graph
// rejects depends on the order the sign-ups were processed; so EVERY member is flagged, each at
// their own first sign-up (the event that named the next referrer). The identity is then a
// function of the final first sign-ups, whichever edge the graph rejected. A self edge (ring of
// one) is self_referral, not a cycle.
import type { UserNode } from '../../referral-graph/types.ts';
import type { Detection } from '../types.ts';

/**
 * The referral ring reachable from `start` by following each user's named referrer, in pointer
 * order starting at the first member reached; null if the walk ends (no referrer, not signed up)
 * or only meets a self edge. Terminates: every user is visited at most once.
 */
export function findCycle(start: string, referrerOf: (userId: string) => string | undefined): string[] | null {
  const path: string[] = [];
  const index = new Map<string, number>();
  let user: string | undefined = start;
  while (user !== undefined && !index.has(user)) {
    index.set(user, path.length);
    path.push(user);
    user = referrerOf(user);
  }
  if (user === undefined) return null;
  const ring = path.slice(index.get(user));
  return ring.length >= 2 ? ring : null;
}

/**
 * referral_cycle detections for the members of `ring` (from findCycle), or none when the graph
 * has not rejected any of its edges (then the ring is not closed in the graph's view yet).
 */
export function referralCycle(ring: readonly string[], nodeOf: (userId: string) => UserNode | undefined): Detection[] {
  const nodes = ring.map(nodeOf);
  if (!nodes.some((n) => n?.status === 'cycle')) return [];
  return ring.flatMap((userId, i) => {
    const node = nodes[i];
    if (!node) return [];
    return [
      {
        user_id: userId,
        signal: 'referral_cycle' as const,
        event_id: node.signup_event_id,
        at: node.signup_at,
        evidence: {
          referrer_id: node.referrer_id,
          invite_id: node.invite_id,
          cycle: [...ring.slice(i), ...ring.slice(0, i)],
        },
      },
    ];
  });
}
