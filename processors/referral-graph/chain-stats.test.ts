import { describe, it, expect } from 'vitest';
import { chainStats, chainStatsFromHistogram, chainStatsQuery } from './chain-stats.ts';
import { ReferralGraph } from './graph.ts';
import { signup } from './test-builders.ts';

describe('chain statistics (design §7 /v1/viral/chains)', () => {
  it('counts referred users (depth ≥ 1) whose first sign-up is in [from, to)', () => {
    const g = new ReferralGraph();
    g.apply([
      signup('r', 0),
      signup('a', 10, { ref: 'r' }), // depth 1
      signup('b', 20, { ref: 'a' }), // depth 2
      signup('c', 30, { ref: 'b' }), // depth 3
      signup('d', 40, { ref: 'a' }), // depth 2, outside [10, 40)
      signup('p', 15, { ref: 'ghost' }), // pending: depth unknown
    ]);
    expect(chainStats(g.nodes('app'), 10, 40)).toEqual({ referred_users: 3, mean_depth: 2, max_depth: 3, depth_histogram: { '1': 1, '2': 1, '3': 1 } });
    expect(chainStats(g.nodes('app'), 0, 100).depth_histogram).toEqual({ '1': 1, '2': 2, '3': 1 });
    expect(chainStats(g.nodes('app'), 50, 60)).toEqual({ referred_users: 0, mean_depth: 0, max_depth: 0, depth_histogram: {} });
  });

  it('reads ClickHouse (depth, users) rows, UInt64 counts as strings', () => {
    expect(chainStatsFromHistogram([{ depth: '3', users: '1' }, { depth: 1, users: '3' }])).toEqual({ referred_users: 4, mean_depth: 1.5, max_depth: 3, depth_histogram: { '1': 3, '3': 1 } });
  });

  it('builds the query with quoted values only', () => {
    const q = chainStatsQuery("o'hara", Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1)).text;
    expect(q).toContain("app_id = 'o\\'hara'");
    expect(q).toContain(`s >= toDateTime(${Date.UTC(2024, 0, 1) / 1000}) AND s < toDateTime(${Date.UTC(2024, 1, 1) / 1000})`);
  });
});
