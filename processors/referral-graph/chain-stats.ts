// Chain statistics of design §7 `GET /v1/viral/chains?from&to`: over referred users (depth ≥ 1)
// whose first sign-up is in [from, to): how many, mean and max depth, and the depth histogram.
// The api computes it in ClickHouse (`chainStatsQuery` → `chainStatsFromHistogram`); `chainStats`
// is the same definition over in-memory nodes (tests, the loadtest's checks).
import { dateTime, sql, str, type Sql } from '../../core/clickhouse/sql.ts';
import type { UserNode } from './types.ts';

export interface ChainStats {
  referred_users: number;
  /** 0 when there are no referred users. */
  mean_depth: number;
  /** 0 when there are no referred users. */
  max_depth: number;
  /** depth → users, keys in ascending depth order. */
  depth_histogram: Record<string, number>;
}

/** From (depth, users) pairs; ClickHouse returns UInt64 counts as strings, hence `number | string`. */
export function chainStatsFromHistogram(rows: readonly { depth: number | string; users: number | string }[]): ChainStats {
  const cells = rows.map((r) => ({ depth: Number(r.depth), users: Number(r.users) })).sort((a, b) => a.depth - b.depth);
  let users = 0;
  let depthSum = 0;
  let max = 0;
  const histogram: Record<string, number> = {};
  for (const c of cells) {
    if (c.users === 0) continue;
    histogram[String(c.depth)] = c.users;
    users += c.users;
    depthSum += c.depth * c.users;
    if (c.depth > max) max = c.depth;
  }
  return { referred_users: users, mean_depth: users === 0 ? 0 : depthSum / users, max_depth: max, depth_histogram: histogram };
}

/** The definition over nodes; `from`/`to` epoch ms, half-open. */
export function chainStats(nodes: Iterable<Pick<UserNode, 'depth' | 'signup_at'>>, from: number, to: number): ChainStats {
  const counts = new Map<number, number>();
  for (const n of nodes) {
    if (n.depth === null || n.depth < 1 || n.signup_at < from || n.signup_at >= to) continue;
    counts.set(n.depth, (counts.get(n.depth) ?? 0) + 1);
  }
  return chainStatsFromHistogram([...counts].map(([depth, users]) => ({ depth, users })));
}

/**
 * The (depth, users) histogram from `viral.referral_nodes` (latest version of each user through
 * argMax, which works on 18.16 and current versions alike; depth −1 = unknown is excluded by
 * depth ≥ 1). `signup_at` is whole seconds there, so `from`/`to` are compared at second precision.
 */
export function chainStatsQuery(appId: string, from: number, to: number): Sql {
  return sql`SELECT d AS depth, count() AS users FROM (SELECT argMax(depth, version) AS d, argMax(signup_at, version) AS s FROM viral.referral_nodes WHERE app_id = ${str(appId)} GROUP BY user_id) WHERE d >= 1 AND s >= ${dateTime(from)} AND s < ${dateTime(to)} GROUP BY d ORDER BY d`;
}
