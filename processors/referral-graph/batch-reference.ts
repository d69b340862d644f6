// The executable specification of design §5 (referral graph, attribution, super-connectors):
// a straightforward batch computation over a final, deduplicated event set. The incremental
// processors of this folder must end in exactly these values whatever the arrival order, batch
// split, duplicates or restarts; the property tests and the loadtest check them against it.
// Deliberately simple and independent of graph.ts: cycles are found by walking parent pointers
// with colours, depths and statistics by recursion and by walking every chain.
import type { ViralEvent } from '../../core/events/types.ts';
import type { EdgeStatus, ReferralNode } from './types.ts';
import { superConnectorScore, tierFor, type SuperConnectorConfig, type Tier } from './super-connectors.ts';
import { toMicros } from './attribution.ts';

export interface ReferenceSuperConnector {
  score: number;
  tier: Tier;
  quality_referrals: number;
  indirect_referrals: number;
  paying_referrals: number;
}

export interface ReferenceApp {
  nodes: Map<string, ReferralNode>;
  /** referrer → currency → micros (currencies whose direct and chain sums are both 0 are left out). */
  revenue: Map<string, Map<string, { direct: number; chain: number }>>;
  superConnectors: Map<string, ReferenceSuperConnector>;
}

function earlier(a: ViralEvent, b: ViralEvent | undefined): boolean {
  return !b || a.occurred_at < b.occurred_at || (a.occurred_at === b.occurred_at && a.event_id < b.event_id);
}

/** Reference per app; `isFlagged` is the final fraud flag state. */
export function referenceCompute(
  events: readonly ViralEvent[],
  isFlagged: (appId: string, userId: string) => boolean,
  config: SuperConnectorConfig,
): Map<string, ReferenceApp> {
  const byApp = new Map<string, Map<string, ViralEvent>>();
  for (const e of events) {
    if (!byApp.has(e.app_id)) byApp.set(e.app_id, new Map());
    byApp.get(e.app_id)!.set(e.event_id, e);
  }
  const out = new Map<string, ReferenceApp>();
  for (const [appId, unique] of byApp) out.set(appId, referenceApp(appId, [...unique.values()], (u) => isFlagged(appId, u), config));
  return out;
}

function referenceApp(appId: string, events: ViralEvent[], isFlagged: (u: string) => boolean, config: SuperConnectorConfig): ReferenceApp {
  const invitations = new Map<string, ViralEvent>();
  const firstSignup = new Map<string, ViralEvent>();
  for (const e of events) {
    if (e.type === 'invite_sent' && e.invite_id !== '' && earlier(e, invitations.get(e.invite_id))) invitations.set(e.invite_id, e);
    if (e.type === 'signup' && earlier(e, firstSignup.get(e.user_id))) firstSignup.set(e.user_id, e);
  }

  // Named referrer and the status before cycles.
  const referrer = new Map<string, string>();
  const status = new Map<string, EdgeStatus>();
  for (const [u, s] of firstSignup) {
    const inv = s.invite_id === '' ? undefined : invitations.get(s.invite_id);
    const r = inv ? inv.user_id : s.referrer_id;
    referrer.set(u, r);
    if (r === '') status.set(u, s.invite_id === '' ? 'root' : 'pending');
    else if (r === u) status.set(u, 'self_referral');
    else if (!firstSignup.has(r)) status.set(u, 'pending');
    else status.set(u, 'accepted');
  }
  const candidate = (u: string): string | undefined => (status.get(u) === 'accepted' || status.get(u) === 'cycle' ? referrer.get(u) : undefined);

  // Cycles of the candidate pointers: reject the edge of the latest first sign-up in each.
  const colour = new Map<string, 1 | 2>();
  for (const start of firstSignup.keys()) {
    const stack: string[] = [];
    let u: string | undefined = start;
    while (u !== undefined && !colour.has(u)) {
      colour.set(u, 1);
      stack.push(u);
      u = candidate(u);
    }
    if (u !== undefined && colour.get(u) === 1) {
      const ring = stack.slice(stack.indexOf(u));
      let latest = ring[0];
      for (const v of ring) if (earlier(firstSignup.get(latest)!, firstSignup.get(v))) latest = v;
      status.set(latest, 'cycle');
    }
    for (const v of stack) colour.set(v, 2);
  }
  const parent = (u: string): string | undefined => (status.get(u) === 'accepted' ? referrer.get(u) : undefined);

  const depthOf = new Map<string, { depth: number | null; root: string | null }>();
  const place = (u: string): { depth: number | null; root: string | null } => {
    let d = depthOf.get(u);
    if (d) return d;
    const p = parent(u);
    if (p !== undefined) {
      const pd = place(p);
      d = pd.depth === null ? { depth: null, root: null } : { depth: pd.depth + 1, root: pd.root };
    } else d = status.get(u) === 'pending' ? { depth: null, root: null } : { depth: 0, root: u };
    depthOf.set(u, d);
    return d;
  };

  const children = new Map<string, string[]>();
  const descendants = new Map<string, number>();
  const height = new Map<string, number>();
  const indirect = new Map<string, number>();
  for (const u of firstSignup.keys()) {
    const p = parent(u);
    if (p !== undefined) {
      if (!children.has(p)) children.set(p, []);
      children.get(p)!.push(u);
    }
    let level = 1;
    for (let a = p; a !== undefined; a = parent(a), level++) {
      descendants.set(a, (descendants.get(a) ?? 0) + 1);
      height.set(a, Math.max(height.get(a) ?? 0, level));
      if (level === 2 || level === 3) indirect.set(a, (indirect.get(a) ?? 0) + 1);
    }
  }

  const nodes = new Map<string, ReferralNode>();
  for (const [u, s] of firstSignup) {
    const { depth, root } = place(u);
    nodes.set(u, {
      app_id: appId,
      user_id: u,
      signup_event_id: s.event_id,
      signup_at: s.occurred_at,
      invite_id: s.invite_id,
      referrer_id: referrer.get(u)!,
      status: status.get(u)!,
      depth,
      root_id: root,
      direct_referrals: children.get(u)?.length ?? 0,
      descendants: descendants.get(u) ?? 0,
      subtree_depth: height.get(u) ?? 0,
      indirect_referrals: indirect.get(u) ?? 0,
    });
  }

  // Attribution: each user's net revenue (purchases, minus refunds of orders they bought; an
  // order's buyer is its earliest purchase) credited to the parent (direct) and every ancestor.
  const own = new Map<string, Map<string, number>>();
  const add = (u: string, currency: string, micros: number): void => {
    if (!own.has(u)) own.set(u, new Map());
    own.get(u)!.set(currency, (own.get(u)!.get(currency) ?? 0) + micros);
  };
  const buyer = new Map<string, ViralEvent>();
  const purchasers = new Set<string>();
  const inviters = new Set<string>();
  for (const e of events) {
    if (e.type === 'purchase') {
      add(e.user_id, e.currency, toMicros(e.amount));
      purchasers.add(e.user_id);
      if (earlier(e, buyer.get(e.order_id))) buyer.set(e.order_id, e);
    }
    if (e.type === 'invite_sent') inviters.add(e.user_id);
  }
  for (const e of events) {
    const b = e.type === 'refund' ? buyer.get(e.order_id) : undefined;
    if (b) add(b.user_id, e.currency, -toMicros(e.amount));
  }
  const revenue = new Map<string, Map<string, { direct: number; chain: number }>>();
  for (const [u, amounts] of own) {
    let first = true;
    for (let a = firstSignup.has(u) ? parent(u) : undefined; a !== undefined; a = parent(a), first = false) {
      if (!revenue.has(a)) revenue.set(a, new Map());
      for (const [currency, micros] of amounts) {
        const cell = revenue.get(a)!.get(currency) ?? { direct: 0, chain: 0 };
        cell.chain += micros;
        if (first) cell.direct += micros;
        revenue.get(a)!.set(currency, cell);
      }
    }
  }
  for (const cells of revenue.values()) for (const [c, v] of cells) if (v.direct === 0 && v.chain === 0) cells.delete(c);

  const superConnectors = new Map<string, ReferenceSuperConnector>();
  for (const u of firstSignup.keys()) {
    const kids = children.get(u) ?? [];
    const counts = {
      quality_referrals: kids.filter((c) => !isFlagged(c) && (inviters.has(c) || purchasers.has(c))).length,
      indirect_referrals: indirect.get(u) ?? 0,
      paying_referrals: kids.filter((c) => purchasers.has(c)).length,
    };
    const score = superConnectorScore(counts, config.weights);
    superConnectors.set(u, { score, tier: tierFor(score, config.tiers), ...counts });
  }
  return { nodes, revenue, superConnectors };
}
