// Referred users and revenue per referrer (design §5 "Attribution", issue 4 item 2), upserted to
// `viral.referral_attribution` (sql/migrations/0101_create_referral_attribution.sql), one row
// per (app_id, referrer_id, currency) holding the revenue; the user counts are the graph's and
// live in `viral.referral_nodes` (direct_referrals, descendants), where every referrer has a row.
// (Copies of the counts in the currency rows could go stale: a restarted processor cannot know
// which currency rows an earlier life wrote, so it could not refresh them.)
//
// Definitions (functions of the deduplicated event set, so order independent):
// - A user's net revenue per currency = their purchases − the refunds of orders they bought.
//   Purchases and refunds count once per event_id (two purchase events of one order are two
//   payments); an order's buyer is the user of its earliest purchase (occurred_at, event_id), and
//   a refund is credited wherever that buyer's revenue was attributed (design §3 "A refund
//   reverses (part of) a purchase's revenue wherever that revenue was attributed"), in the
//   refund's own currency. A refund of an order with no purchase yet waits for the purchase.
// - direct_referred_revenue(R) = Σ net revenue of R's direct referrals; chain_referred_revenue(R)
//   = Σ over all descendants (accepted edges). All purchases of a user count, also those made
//   before their sign-up arrived: they are attributed when the edge appears.
// - direct_referred_users / chain_referred_users = the graph's direct_referrals / descendants.
// Amounts are summed as integer micro-units, so sums are exact and independent of order.
//
// Incremental: each paying user remembers the chain and amounts it is currently credited to; a
// user whose revenue or chain changed (graph change `moved`) is debited there and credited anew.
// A currency row stays once created (a later move can bring it to 0): rows are upserts.
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import type { GraphSubscription, ReferralGraph } from './graph.ts';

export const ATTRIBUTION_TABLE = 'referral_attribution';

/** One row of `viral.referral_attribution`, key (app_id, referrer_id, currency). */
export interface AttributionRow {
  app_id: string;
  referrer_id: string;
  currency: string;
  direct_referred_revenue: number;
  chain_referred_revenue: number;
  version: number;
}

/** design §5 attribution fields of one referrer, revenue as `{"USD": 12.5}`. */
export interface Attribution {
  direct_referred_users: number;
  direct_referred_revenue: Record<string, number>;
  chain_referred_users: number;
  chain_referred_revenue: Record<string, number>;
}

export interface AttributionProcessor extends Processor {
  /** The current design §5 attribution of a signed-up user, counts from the graph (undefined if unknown). */
  attributionOf(appId: string, userId: string): Attribution | undefined;
}

const MICROS = 1_000_000;
/** Decimal amount → integer micro-units (6 decimals, the precision kept). */
export function toMicros(amount: number): number {
  return Math.round(amount * MICROS);
}

interface Credit {
  /** Ancestors, nearest first. */
  path: string[];
  amounts: Map<string, number>;
}

interface Cell {
  direct: number;
  chain: number;
}

interface Ledger {
  seen: Set<string>;
  /** user → currency → net micros. */
  own: Map<string, Map<string, number>>;
  /** order → earliest purchase. */
  orders: Map<string, { user: string; at: number; eventId: string }>;
  /** order → currency → refunded micros. */
  refunds: Map<string, Map<string, number>>;
  credited: Map<string, Credit>;
  /** referrer → currency → sums. */
  sums: Map<string, Map<string, Cell>>;
}

function addTo(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/**
 * Creates the attribution processor over the shared graph. Must run after the referral-graph
 * processor in the same batch (it reads the graph's change set through a subscription). Returns
 * the rows of every referrer whose sums changed, and of every referrer credited with the revenue
 * of a buyer whose purchase, refund or node is in the batch (duplicates included).
 */
export function createAttributionProcessor(graph: ReferralGraph): AttributionProcessor {
  const subscription: GraphSubscription = graph.subscribe();
  const ledgers = new Map<string, Ledger>();
  const ledger = (appId: string): Ledger => {
    let l = ledgers.get(appId);
    if (!l) {
      l = { seen: new Set(), own: new Map(), orders: new Map(), refunds: new Map(), credited: new Map(), sums: new Map() };
      ledgers.set(appId, l);
    }
    return l;
  };
  const ownOf = (l: Ledger, user: string): Map<string, number> => {
    let m = l.own.get(user);
    if (!m) {
      m = new Map();
      l.own.set(user, m);
    }
    return m;
  };

  function purchase(l: Ledger, e: ViralEvent, dirty: Set<string>): void {
    dirty.add(e.user_id);
    if (l.seen.has(e.event_id)) return;
    l.seen.add(e.event_id);
    addTo(ownOf(l, e.user_id), e.currency, toMicros(e.amount));
    const order = l.orders.get(e.order_id);
    if (order && (order.at < e.occurred_at || (order.at === e.occurred_at && order.eventId < e.event_id))) return;
    l.orders.set(e.order_id, { user: e.user_id, at: e.occurred_at, eventId: e.event_id });
    // The order's refunds follow its (new) buyer.
    const refunded = l.refunds.get(e.order_id);
    if (!refunded || order?.user === e.user_id) return;
    for (const [currency, micros] of refunded) {
      if (order) addTo(ownOf(l, order.user), currency, micros);
      addTo(ownOf(l, e.user_id), currency, -micros);
    }
    if (order) dirty.add(order.user);
  }

  function refund(l: Ledger, e: ViralEvent, dirty: Set<string>): void {
    const buyer = l.orders.get(e.order_id)?.user;
    if (buyer !== undefined) dirty.add(buyer);
    if (l.seen.has(e.event_id)) return;
    l.seen.add(e.event_id);
    let refunded = l.refunds.get(e.order_id);
    if (!refunded) {
      refunded = new Map();
      l.refunds.set(e.order_id, refunded);
    }
    addTo(refunded, e.currency, toMicros(e.amount));
    if (buyer !== undefined) addTo(ownOf(l, buyer), e.currency, -toMicros(e.amount));
  }

  function credit(l: Ledger, c: Credit, sign: 1 | -1, touched: Set<string>): void {
    c.path.forEach((referrer, i) => {
      let cells = l.sums.get(referrer);
      if (!cells) {
        cells = new Map();
        l.sums.set(referrer, cells);
      }
      for (const [currency, micros] of c.amounts) {
        let cell = cells.get(currency);
        if (!cell) {
          cell = { direct: 0, chain: 0 };
          cells.set(currency, cell);
        }
        cell.chain += sign * micros;
        if (i === 0) cell.direct += sign * micros;
      }
      touched.add(referrer);
    });
  }

  return {
    name: 'attribution',
    apply(events: readonly ViralEvent[], now: number): RowBatch[] {
      const change = subscription.drain();
      const dirtyByApp = new Map<string, Set<string>>();
      const dirtyOf = (appId: string): Set<string> => {
        let d = dirtyByApp.get(appId);
        if (!d) {
          d = new Set();
          dirtyByApp.set(appId, d);
        }
        return d;
      };
      for (const e of events) {
        if (e.type === 'purchase') purchase(ledger(e.app_id), e, dirtyOf(e.app_id));
        else if (e.type === 'refund') refund(ledger(e.app_id), e, dirtyOf(e.app_id));
      }
      for (const [appId, c] of change.apps) {
        const l = ledgers.get(appId);
        if (l) for (const u of c.moved) if (l.own.has(u)) dirtyOf(appId).add(u);
      }

      const rows: AttributionRow[] = [];
      const version = rowVersion(now);
      for (const [appId, dirty] of dirtyByApp) {
        const l = ledger(appId);
        const touched = new Set<string>();
        for (const u of dirty) {
          const old = l.credited.get(u);
          if (old) credit(l, old, -1, touched);
          const amounts = l.own.get(u);
          const path = amounts ? graph.ancestors(appId, u) : [];
          if (amounts && path.length) {
            const c: Credit = { path, amounts: new Map(amounts) };
            credit(l, c, 1, touched);
            l.credited.set(u, c);
          } else l.credited.delete(u);
        }
        for (const referrer of touched) {
          for (const [currency, cell] of l.sums.get(referrer) ?? []) {
            rows.push({
              app_id: appId,
              referrer_id: referrer,
              currency,
              direct_referred_revenue: cell.direct / MICROS,
              chain_referred_revenue: cell.chain / MICROS,
              version,
            });
          }
        }
      }
      return rows.length ? [{ table: ATTRIBUTION_TABLE, rows: rows as unknown as Record<string, unknown>[] }] : [];
    },

    attributionOf(appId: string, userId: string): Attribution | undefined {
      const node = graph.node(appId, userId);
      if (!node) return undefined;
      const direct: Record<string, number> = {};
      const chain: Record<string, number> = {};
      // A currency shows in a map only where its amount is not 0 (rows may hold 0s, see header).
      for (const [currency, cell] of ledgers.get(appId)?.sums.get(userId) ?? []) {
        if (cell.direct !== 0) direct[currency] = cell.direct / MICROS;
        if (cell.chain !== 0) chain[currency] = cell.chain / MICROS;
      }
      return {
        direct_referred_users: node.direct_referrals,
        direct_referred_revenue: direct,
        chain_referred_users: node.descendants,
        chain_referred_revenue: chain,
      };
    },
  };
}
