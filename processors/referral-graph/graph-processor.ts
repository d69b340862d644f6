// The referral-graph processor (design §5 "Referral graph", issue 4 item 1): applies each batch
// to the shared ReferralGraph and upserts `viral.referral_nodes`
// (sql/migrations/0100_create_referral_nodes.sql). It must be the first processor of the
// registry that reads the graph: attribution, fraud, k-factor, cohorts and super-connectors read
// the graph after it has applied the same batch.
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import type { ReferralGraph } from './graph.ts';
import type { EdgeStatus, ReferralNode } from './types.ts';

export const REFERRAL_NODES_TABLE = 'referral_nodes';

/** One row of `viral.referral_nodes`, key (app_id, user_id). */
export interface ReferralNodeRow {
  app_id: string;
  user_id: string;
  /** Resolved referrer ('' none), also for pending and rejected edges. */
  referrer_id: string;
  /** '' while the chain above waits for a sign-up (depth unknown). */
  root_id: string;
  /** -1 while unknown (the chain above ends at a pending user); 0 for roots and rejected edges. */
  depth: number;
  status: EdgeStatus;
  /** First sign-up, unix seconds (ClickHouse DateTime). */
  signup_at: number;
  invite_id: string;
  direct_referrals: number;
  descendants: number;
  subtree_depth: number;
  version: number;
}

/** The row of a node. depth/root unknown become -1 / '' (no Nullable in the table, see migration). */
export function referralNodeRow(n: ReferralNode, version: number): ReferralNodeRow {
  return {
    app_id: n.app_id,
    user_id: n.user_id,
    referrer_id: n.referrer_id,
    root_id: n.root_id ?? '',
    depth: n.depth ?? -1,
    status: n.status,
    signup_at: Math.floor(n.signup_at / 1000),
    invite_id: n.invite_id,
    direct_referrals: n.direct_referrals,
    descendants: n.descendants,
    subtree_depth: n.subtree_depth,
    version,
  };
}

/**
 * Creates the processor that applies batches to `graph`. `apply` returns the current row of
 * every user whose node changed (status, referrer, depth, root, first sign-up), of every ancestor
 * whose subtree statistics changed, and of every user with a sign-up in the batch — duplicates
 * included, with the whole chain a duplicate first sign-up decided (core/processor.ts replay rule).
 */
export function createReferralGraphProcessor(graph: ReferralGraph): Processor {
  return {
    name: 'referral-graph',
    apply(events: readonly ViralEvent[], now: number): RowBatch[] {
      const change = graph.apply(events);
      const rows: ReferralNodeRow[] = [];
      const version = rowVersion(now);
      for (const [appId, c] of change.apps) {
        for (const userId of c.users) {
          const n = graph.node(appId, userId);
          if (n) rows.push(referralNodeRow(n, version));
        }
      }
      return rows.length ? [{ table: REFERRAL_NODES_TABLE, rows: rows as unknown as Record<string, unknown>[] }] : [];
    },
  };
}
