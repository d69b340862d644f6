import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import { ReferralGraph } from './graph.ts';
import { createReferralGraphProcessor } from './graph-processor.ts';
import {
  createSuperConnectorProcessor,
  DEFAULT_SUPER_CONNECTOR_CONFIG,
  tierFor,
  type FlagSource,
  type SuperConnectorConfig,
  type SuperConnectorRow,
} from './super-connectors.ts';
import { invite, purchase, signup } from './test-builders.ts';

function setup(flags: FlagSource = { isFlagged: () => false }, config?: SuperConnectorConfig) {
  const graph = new ReferralGraph();
  const g = createReferralGraphProcessor(graph);
  const sc = createSuperConnectorProcessor(graph, flags, config);
  const feed = (events: ViralEvent[]): SuperConnectorRow[] => {
    g.apply(events, 1);
    return sc.apply(events, 1).flatMap((b) => b.rows) as unknown as SuperConnectorRow[];
  };
  return { sc, feed };
}

/** `n` direct referrals of `hub`, each of whom purchased (so each is a quality referral). */
function hubWith(n: number): ViralEvent[] {
  const events = [signup('hub', 0)];
  for (let i = 0; i < n; i++) events.push(signup('r' + i, 1, { ref: 'hub' }), purchase('r' + i, 'o' + i, 1, 'USD', 2));
  return events;
}

describe('super-connectors (design §5)', () => {
  it.each([
    { score: 199, tier: 'none' },
    { score: 200, tier: 'silver' },
    { score: 499, tier: 'silver' },
    { score: 500, tier: 'gold' },
    { score: 999, tier: 'gold' },
    { score: 1000, tier: 'platinum' },
  ])('tier of a hub scoring exactly $score is $tier', ({ score, tier }) => {
    // quality weight 1, others 0: the score is the number of quality referrals.
    const config = { ...DEFAULT_SUPER_CONNECTOR_CONFIG, weights: { quality: 1, indirect: 0, paying: 0 } };
    const { sc, feed } = setup(undefined, config);
    feed(hubWith(score));
    expect(sc.scoreOf('app', 'hub')).toMatchObject({ score, tier, quality_referrals: score, paying_referrals: score });
    expect(tierFor(score, DEFAULT_SUPER_CONNECTOR_CONFIG.tiers)).toBe(tier);
  });

  it('scores 100 × quality + 20 × indirect + 50 × paying with the default weights', () => {
    const { sc, feed } = setup();
    feed([
      signup('hub', 0),
      signup('a', 1, { ref: 'hub' }), // invites: quality, not paying
      invite('a', 'ia', 2),
      signup('b', 1, { ref: 'hub' }), // purchases: quality and paying
      purchase('b', 'o1', 5, 'USD', 2),
      signup('c', 1, { ref: 'hub' }), // does nothing
      signup('a1', 3, { invite: 'ia' }), // depth 2 below hub
      signup('a2', 4, { ref: 'a1' }), // depth 3
      signup('a3', 5, { ref: 'a2' }), // depth 4: not counted
    ]);
    expect(sc.scoreOf('app', 'hub')).toEqual({
      app_id: 'app',
      user_id: 'hub',
      quality_referrals: 2,
      indirect_referrals: 2,
      paying_referrals: 1,
      score: 100 * 2 + 20 * 2 + 50 * 1,
      tier: 'silver',
    });
  });

  it('drops flagged referrals from quality (batch flags and onFlagged)', () => {
    const flagged = new Set<string>();
    let fresh: { app_id: string; user_id: string }[] = [];
    const { sc, feed } = setup({ isFlagged: (_a, u) => flagged.has(u), newlyFlagged: () => fresh });
    feed(hubWith(3));
    expect(sc.scoreOf('app', 'hub')?.quality_referrals).toBe(3);
    flagged.add('r0');
    fresh = [{ app_id: 'app', user_id: 'r0' }];
    const rows = feed([]);
    expect(rows.map((r) => [r.user_id, r.quality_referrals, r.paying_referrals])).toEqual([['hub', 2, 3]]);
    fresh = [];
    flagged.add('r1');
    const out = sc.onFlagged('app', 'r1', 2).flatMap((b) => b.rows) as unknown as SuperConnectorRow[];
    expect(out.map((r) => [r.user_id, r.quality_referrals, r.score])).toEqual([['hub', 1, 100 + 50 * 3]]);
    expect(sc.onFlagged('app', 'hub', 2)).toEqual([]);
  });

  it('re-emits the referrer for a duplicate purchase and emits falling scores', () => {
    const { feed } = setup();
    const p = purchase('r', 'o', 1, 'USD', 2);
    feed([signup('hub', 0), signup('r', 1, { ref: 'hub' }), p]);
    expect(feed([p]).map((r) => [r.user_id, r.score])).toEqual([['hub', 150]]);
    // r's earlier first sign-up names nobody: hub loses the referral and is re-emitted with 0.
    const rows = feed([signup('r', 0.5)]);
    expect(rows.find((r) => r.user_id === 'hub')).toMatchObject({ score: 0, tier: 'none', quality_referrals: 0 });
  });
});
