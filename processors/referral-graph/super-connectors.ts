// Super-connector scores and tiers (design §5 "Super-connectors", issue 4 item 3), upserted to
// `viral.super_connectors` (sql/migrations/0102_create_super_connectors.sql), key (app_id, user_id).
//
//   score = w_quality × quality_referrals + w_indirect × indirect_referrals + w_paying × paying_referrals
//   quality_referrals  = direct referrals not flagged by any fraud signal that sent an invitation
//                        or made a purchase (at any time: event clocks of different users are not
//                        comparable enough to demand "after the referral")
//   indirect_referrals = descendants exactly 2 or 3 levels below the user
//   paying_referrals   = direct referrals with at least one purchase (a refund does not undo it)
//   tier: platinum ≥ 1000, gold ≥ 500, silver ≥ 200, else none (defaults; configuration).
// Direct referrals are accepted edges of the graph; pending and rejected ones do not count.
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import type { GraphSubscription, ReferralGraph } from './graph.ts';

export const SUPER_CONNECTORS_TABLE = 'super_connectors';

export const TIERS = ['none', 'silver', 'gold', 'platinum'] as const;
export type Tier = (typeof TIERS)[number];

export interface SuperConnectorConfig {
  weights: { quality: number; indirect: number; paying: number };
  /** Lowest score of each tier. */
  tiers: { platinum: number; gold: number; silver: number };
}

export const DEFAULT_SUPER_CONNECTOR_CONFIG: Readonly<SuperConnectorConfig> = Object.freeze({
  weights: Object.freeze({ quality: 100, indirect: 20, paying: 50 }),
  tiers: Object.freeze({ platinum: 1000, gold: 500, silver: 200 }),
});

export interface SuperConnectorCounts {
  quality_referrals: number;
  indirect_referrals: number;
  paying_referrals: number;
}

/** One row of `viral.super_connectors`. */
export interface SuperConnectorRow extends SuperConnectorCounts {
  app_id: string;
  user_id: string;
  score: number;
  tier: Tier;
  version: number;
}

/** design §5 score. */
export function superConnectorScore(c: SuperConnectorCounts, w: SuperConnectorConfig['weights']): number {
  return w.quality * c.quality_referrals + w.indirect * c.indirect_referrals + w.paying * c.paying_referrals;
}

/** design §5 tiers; thresholds are inclusive lower bounds. */
export function tierFor(score: number, t: SuperConnectorConfig['tiers']): Tier {
  if (score >= t.platinum) return 'platinum';
  if (score >= t.gold) return 'gold';
  if (score >= t.silver) return 'silver';
  return 'none';
}

/** The fraud processor's view that the score needs (processors/fraud/processor.ts satisfies it). */
export interface FlagSource {
  isFlagged(appId: string, userId: string): boolean;
  /** Users that gained a signal in the fraud processor's last apply. */
  newlyFlagged?(): readonly { app_id: string; user_id: string }[];
}

export interface SuperConnectorProcessor extends Processor {
  /** A user was flagged (or unflagged) outside a batch: the row of their referrer, whose quality count may change. */
  onFlagged(appId: string, userId: string, now: number): RowBatch[];
  /** Current score of a signed-up user (undefined if unknown). */
  scoreOf(appId: string, userId: string): Omit<SuperConnectorRow, 'version'> | undefined;
}

const INVITED = 1;
const PURCHASED = 2;

/**
 * Creates the super-connector processor. Must run after the referral-graph processor and after
 * the fraud processor in the same batch (it reads the graph's change set and the flags raised
 * by the batch). Returns the row of every user whose counts may have changed: users whose node
 * or subtree changed, and the referrer of every user who invited, purchased or was newly flagged
 * in the batch (duplicates included). Rows with score 0 are emitted too, so a falling score
 * is overwritten.
 */
export function createSuperConnectorProcessor(
  graph: ReferralGraph,
  flags: FlagSource,
  config: SuperConnectorConfig = DEFAULT_SUPER_CONNECTOR_CONFIG,
): SuperConnectorProcessor {
  const subscription: GraphSubscription = graph.subscribe();
  /** app → user → INVITED | PURCHASED bits (users need not have signed up). */
  const activity = new Map<string, Map<string, number>>();

  function rowOf(appId: string, userId: string, version: number): SuperConnectorRow | undefined {
    const indirect = graph.indirectReferrals(appId, userId);
    if (indirect === undefined) return undefined;
    const acts = activity.get(appId);
    let quality = 0;
    let paying = 0;
    for (const child of graph.children(appId, userId)) {
      const a = acts?.get(child) ?? 0;
      if (a !== 0 && !flags.isFlagged(appId, child)) quality++;
      if (a & PURCHASED) paying++;
    }
    const counts = { quality_referrals: quality, indirect_referrals: indirect, paying_referrals: paying };
    const score = superConnectorScore(counts, config.weights);
    return { app_id: appId, user_id: userId, score, tier: tierFor(score, config.tiers), quality_referrals: quality, indirect_referrals: indirect, paying_referrals: paying, version };
  }

  function rowsFor(candidates: Map<string, Set<string>>, now: number): RowBatch[] {
    const version = rowVersion(now);
    const rows: SuperConnectorRow[] = [];
    for (const [appId, users] of candidates) {
      for (const u of users) {
        const row = rowOf(appId, u, version);
        if (row) rows.push(row);
      }
    }
    return rows.length ? [{ table: SUPER_CONNECTORS_TABLE, rows: rows as unknown as Record<string, unknown>[] }] : [];
  }

  return {
    name: 'super-connectors',
    apply(events: readonly ViralEvent[], now: number): RowBatch[] {
      const change = subscription.drain();
      const candidates = new Map<string, Set<string>>();
      const candidatesOf = (appId: string): Set<string> => {
        let c = candidates.get(appId);
        if (!c) {
          c = new Set();
          candidates.set(appId, c);
        }
        return c;
      };
      for (const [appId, c] of change.apps) for (const u of c.users) candidatesOf(appId).add(u);
      const referrerOf = (appId: string, userId: string): void => {
        const p = graph.parentOf(appId, userId);
        if (p !== '') candidatesOf(appId).add(p);
      };
      for (const e of events) {
        const bit = e.type === 'invite_sent' ? INVITED : e.type === 'purchase' ? PURCHASED : 0;
        if (bit === 0) continue;
        let acts = activity.get(e.app_id);
        if (!acts) activity.set(e.app_id, (acts = new Map()));
        acts.set(e.user_id, (acts.get(e.user_id) ?? 0) | bit);
        referrerOf(e.app_id, e.user_id);
      }
      for (const f of flags.newlyFlagged?.() ?? []) referrerOf(f.app_id, f.user_id);
      return rowsFor(candidates, now);
    },

    onFlagged(appId: string, userId: string, now: number): RowBatch[] {
      const p = graph.parentOf(appId, userId);
      return p === '' ? [] : rowsFor(new Map([[appId, new Set([p])]]), now);
    },

    scoreOf(appId: string, userId: string) {
      const row = rowOf(appId, userId, 0);
      if (!row) return undefined;
      const { version: _v, ...score } = row;
      return score;
    },
  };
}
