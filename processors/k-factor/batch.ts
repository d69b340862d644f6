// Reference batch computation of design §5 over a whole event set, written separately from the
// streaming processors (no state, no increments, no shared code with compute.ts / graph-watch.ts)
// so the property tests can check "streaming equals batch". Not used at run time.
import type { Channel, ViralEvent } from '../../core/events/types.ts';
import { DAY_MS, GRANULARITIES, windowStart } from '../../core/time.ts';
import type { EdgeStatus } from '../referral-graph/types.ts';
import type { KFactorRow } from './compute.ts';

export interface RefInvitation {
  app_id: string;
  invite_id: string;
  sender_id: string;
  sent_at: number;
  channel: Channel | '';
}

export interface RefNode {
  app_id: string;
  user_id: string;
  signup_at: number;
  signup_event_id: string;
  invite_id: string;
  referrer_id: string;
  status: EdgeStatus;
}

/** The reference computes the same rows as the processor, without its upsert version. */
export type KFactorRefRow = Omit<KFactorRow, 'version'>;

const earlier = (a: ViralEvent, b: ViralEvent): boolean =>
  a.occurred_at < b.occurred_at || (a.occurred_at === b.occurred_at && a.event_id < b.event_id);

/** One copy per (app_id, event_id): design §3 idempotency key. */
export function dedupe(events: readonly ViralEvent[]): ViralEvent[] {
  const byId = new Map<string, ViralEvent>();
  for (const e of events) byId.set(e.app_id + '\u0000' + e.event_id, e);
  return [...byId.values()];
}

/**
 * The referral graph of §5 computed in one pass: invitations from their earliest `invite_sent`,
 * nodes from each user's earliest `signup` (ties: smaller event_id), the referrer resolved through
 * the invitation's sender when the invitation is known, else `referrer_id`. Status: `root` without
 * invitation or referrer, `pending` for an unknown invitation without referrer_id or a referrer
 * without a sign-up, `self_referral` when the referrer is the user, `cycle` for the edge of each
 * referral cycle whose user signed up last (ties: larger event_id; the edge that closed it in
 * event time), `accepted` otherwise.
 */
export function referenceGraph(events: readonly ViralEvent[]): {
  invitations: Map<string, RefInvitation>;
  nodes: Map<string, RefNode>;
} {
  const unique = dedupe(events);
  const firstSent = new Map<string, ViralEvent>();
  const firstSignup = new Map<string, ViralEvent>();
  for (const e of unique) {
    const map = e.type === 'invite_sent' ? firstSent : e.type === 'signup' ? firstSignup : undefined;
    if (!map) continue;
    const key = e.app_id + '\u0000' + (e.type === 'invite_sent' ? e.invite_id : e.user_id);
    const prev = map.get(key);
    if (!prev || earlier(e, prev)) map.set(key, e);
  }
  const invitations = new Map<string, RefInvitation>();
  for (const [key, e] of firstSent) {
    invitations.set(key, { app_id: e.app_id, invite_id: e.invite_id, sender_id: e.user_id, sent_at: e.occurred_at, channel: e.channel });
  }
  const nodes = new Map<string, RefNode>();
  for (const [key, e] of firstSignup) {
    const inv = e.invite_id === '' ? undefined : invitations.get(e.app_id + '\u0000' + e.invite_id);
    const referrer = inv ? inv.sender_id : e.referrer_id;
    const status: EdgeStatus =
      referrer === '' ? (e.invite_id === '' ? 'root' : 'pending') : referrer === e.user_id ? 'self_referral' : 'accepted';
    nodes.set(key, {
      app_id: e.app_id,
      user_id: e.user_id,
      signup_at: e.occurred_at,
      signup_event_id: e.event_id,
      invite_id: e.invite_id,
      referrer_id: referrer,
      status,
    });
  }
  for (const n of nodes.values()) {
    if (n.status === 'accepted' && !nodes.has(n.app_id + '\u0000' + n.referrer_id)) n.status = 'pending';
  }
  // Each user has at most one referrer, so cycles are disjoint rings of accepted edges: follow
  // referrers from every node; coming back to the start means a ring, whose last-signed-up
  // member's edge is the one rejected.
  for (const start of nodes.values()) {
    const ring: RefNode[] = [];
    let cur: RefNode | undefined = start;
    while (cur && cur.status === 'accepted' && ring.length <= nodes.size) {
      ring.push(cur);
      cur = nodes.get(cur.app_id + '\u0000' + cur.referrer_id);
      if (cur === start) {
        const last = ring.reduce((a, b) =>
          b.signup_at > a.signup_at || (b.signup_at === a.signup_at && b.signup_event_id > a.signup_event_id) ? b : a,
        );
        last.status = 'cycle';
        break;
      }
    }
  }
  return { invitations, nodes };
}

/** §5 viral coefficient rows of every window × channel (and `all`) with invitations. */
export function referenceKFactorRows(events: readonly ViralEvent[], attributionWindowDays = 30): KFactorRefRow[] {
  const { invitations, nodes } = referenceGraph(events);
  const acceptedInvites = new Set<string>();
  for (const inv of invitations.values()) {
    for (const n of nodes.values()) {
      if (
        n.app_id === inv.app_id &&
        n.invite_id === inv.invite_id &&
        (n.status === 'accepted' || n.status === 'pending') &&
        n.signup_at <= inv.sent_at + attributionWindowDays * DAY_MS
      ) {
        acceptedInvites.add(inv.app_id + '\u0000' + inv.invite_id);
      }
    }
  }
  const groups = new Map<string, { row: KFactorRefRow; invites: Set<string>; senders: Set<string>; accepted: Set<string> }>();
  for (const [key, inv] of invitations) {
    for (const granularity of GRANULARITIES) {
      for (const channel of [inv.channel, 'all'] as const) {
        if (channel === '') continue;
        const start = windowStart(inv.sent_at, granularity) / 1000;
        const gk = [inv.app_id, granularity, start, channel].join('\u0000');
        let g = groups.get(gk);
        if (!g) {
          const row = { app_id: inv.app_id, granularity, window_start: start, channel } as KFactorRefRow;
          groups.set(gk, (g = { row, invites: new Set(), senders: new Set(), accepted: new Set() }));
        }
        g.invites.add(key);
        g.senders.add(inv.sender_id);
        if (acceptedInvites.has(key)) g.accepted.add(key);
      }
    }
  }
  return [...groups.values()].map(({ row, invites, senders, accepted }) => {
    const conversion_rate = invites.size === 0 ? 0 : accepted.size / invites.size;
    const invites_per_inviter = senders.size === 0 ? 0 : invites.size / senders.size;
    return {
      ...row,
      invites_sent: invites.size,
      inviters: senders.size,
      invites_accepted: accepted.size,
      conversion_rate,
      invites_per_inviter,
      k_factor: invites_per_inviter * conversion_rate,
    };
  });
}
