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
export const REFERRAL_ANCESTORS_TABLE = 'referral_ancestors';

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

/** One row of `viral.referral_ancestors` (sql/migrations/0103_create_referral_ancestors.sql). */
export interface ReferralAncestorsRow {
  app_id: string;
  user_id: string;
  /** The accepted chain above the user, nearest first, at most `storedAncestors` entries. */
  ancestors: string[];
  version: number;
}

export interface ReferralGraphProcessorOptions {
  /**
   * Ancestors kept per user in `referral_ancestors`: the api's CHAIN_MAX_DEPTH + 1, so that one
   * lookup answers the chain route and tells whether the chain goes on. Default 51.
   */
  storedAncestors?: number;
}

/**
 * Creates the processor that applies batches to `graph`. `apply` returns the current row of
 * every user whose node changed (status, referrer, depth, root, first sign-up), of every ancestor
 * whose subtree statistics changed, and of every user with a sign-up in the batch — duplicates
 * included, with the whole chain a duplicate first sign-up decided (core/processor.ts replay rule);
 * and the `referral_ancestors` row of every user whose chain of ancestors may have changed (the
 * graph's `moved`: new users, re-parented subtrees, and for a duplicate first sign-up its subtree).
 */
export function createReferralGraphProcessor(graph: ReferralGraph, options: ReferralGraphProcessorOptions = {}): Processor {
  const storedAncestors = options.storedAncestors ?? 51;
  if (!Number.isInteger(storedAncestors) || storedAncestors < 1) throw new Error(`storedAncestors must be a positive integer, got ${storedAncestors}`);
  return {
    name: 'referral-graph',
    apply(events: readonly ViralEvent[], now: number): RowBatch[] {
      const change = graph.apply(events);
      const rows: ReferralNodeRow[] = [];
      const chains: ReferralAncestorsRow[] = [];
      const version = rowVersion(now);
      for (const [appId, c] of change.apps) {
        for (const userId of c.users) {
          const n = graph.node(appId, userId);
          if (n) rows.push(referralNodeRow(n, version));
        }
        for (const userId of c.moved) {
          // app_id: the row's own string, as the node rows carry it.
          chains.push({ app_id: appId, user_id: userId, ancestors: graph.ancestors(appId, userId, storedAncestors), version });
        }
      }
      const out: RowBatch[] = [];
      if (rows.length) out.push({ table: REFERRAL_NODES_TABLE, rows: rows as unknown as Record<string, unknown>[] });
      if (chains.length) out.push({ table: REFERRAL_ANCESTORS_TABLE, rows: chains as unknown as Record<string, unknown>[] });
      return out;
    },
  };
}
