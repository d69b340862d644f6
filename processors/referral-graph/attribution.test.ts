import { describe, it, expect } from 'vitest';
import type { ViralEvent } from '../../core/events/types.ts';
import { createAttributionProcessor, toMicros, type AttributionRow } from './attribution.ts';
import { ReferralGraph } from './graph.ts';
import { createReferralGraphProcessor } from './graph-processor.ts';
import { purchase, refund, signup } from './test-builders.ts';

function setup() {
  const graph = new ReferralGraph();
  const procs = [createReferralGraphProcessor(graph), createAttributionProcessor(graph)] as const;
  const attribution = procs[1];
  const feed = (events: ViralEvent[]): AttributionRow[] => {
    procs[0].apply(events, 1);
    return attribution.apply(events, 1).flatMap((b) => b.rows) as unknown as AttributionRow[];
  };
  return { graph, attribution, feed };
}

// root ← a ← b ← c (root referred a, a referred b, b referred c)
const chain = () => [signup('root', 1), signup('a', 2, { ref: 'root' }), signup('b', 3, { ref: 'a' }), signup('c', 4, { ref: 'b' })];

describe('attribution (design §5)', () => {
  it('sums direct and chain revenue per currency, net of refunds', () => {
    const { attribution, feed } = setup();
    feed([
      ...chain(),
      purchase('b', 'o1', 10.25, 'USD', 5),
      purchase('c', 'o2', 3, 'EUR', 5),
      purchase('c', 'o3', 4.5, 'USD', 6),
      refund('c', 'o3', 1.5, 'USD', 7),
    ]);
    // a: direct b (10.25 USD); chain b + c (10.25 + 4.5 − 1.5 USD, 3 EUR)
    expect(attribution.attributionOf('app', 'a')).toEqual({
      direct_referred_users: 1,
      direct_referred_revenue: { USD: 10.25 },
      chain_referred_users: 2,
      chain_referred_revenue: { USD: 13.25, EUR: 3 },
    });
    expect(attribution.attributionOf('app', 'root')?.direct_referred_revenue).toEqual({});
    expect(attribution.attributionOf('app', 'root')?.chain_referred_revenue).toEqual({ USD: 13.25, EUR: 3 });
    expect(attribution.attributionOf('app', 'b')).toMatchObject({ direct_referred_revenue: { USD: 3, EUR: 3 }, chain_referred_revenue: { USD: 3, EUR: 3 } });
  });

  it('attributes a purchase made before the sign-up once the sign-up arrives', () => {
    const { attribution, feed } = setup();
    feed([signup('root', 1), purchase('x', 'o1', 7, 'USD', 1)]);
    expect(attribution.attributionOf('app', 'root')?.chain_referred_revenue).toEqual({});
    const rows = feed([signup('x', 2, { ref: 'root' })]);
    expect(rows.map((r) => [r.referrer_id, r.currency, r.direct_referred_revenue, r.chain_referred_revenue])).toEqual([['root', 'USD', 7, 7]]);
  });

  it('credits a refund to the order buyer, also when it arrives before the purchase', () => {
    const { attribution, feed } = setup();
    feed([...chain(), refund('someone', 'o1', 2, 'USD', 9)]);
    expect(attribution.attributionOf('app', 'b')?.direct_referred_revenue).toEqual({});
    feed([purchase('c', 'o1', 5, 'USD', 8)]);
    expect(attribution.attributionOf('app', 'b')?.direct_referred_revenue).toEqual({ USD: 3 });
  });

  it('counts a duplicated purchase event once, and re-emits its rows', () => {
    const { attribution, feed } = setup();
    const p = purchase('c', 'o1', 5, 'USD', 8);
    feed([...chain(), p]);
    const again = feed([p, p]);
    expect(attribution.attributionOf('app', 'root')?.chain_referred_revenue).toEqual({ USD: 5 });
    expect(again.map((r) => r.referrer_id).sort()).toEqual(['a', 'b', 'root']);
    expect(again.every((r) => r.chain_referred_revenue === 5)).toBe(true);
  });

  it('moves revenue with the buyer when an earlier first sign-up changes the referrer', () => {
    const { attribution, feed } = setup();
    feed([...chain(), signup('z', 1), purchase('c', 'o1', 5, 'USD', 8)]);
    const rows = feed([signup('c', 0.5, { ref: 'z' })]);
    expect(attribution.attributionOf('app', 'b')?.direct_referred_revenue).toEqual({});
    expect(attribution.attributionOf('app', 'z')?.direct_referred_revenue).toEqual({ USD: 5 });
    // The old chain is overwritten with 0, the new one credited.
    expect(Object.fromEntries(rows.map((r) => [r.referrer_id, r.chain_referred_revenue]))).toEqual({ root: 0, a: 0, b: 0, z: 5 });
  });

  it('sums exactly whatever the order (integer micro-units)', () => {
    const amounts = [0.1, 0.2, 0.3, 1e-6, 123456.789];
    const total = (order: number[]) => {
      const { attribution, feed } = setup();
      feed([signup('r', 1), signup('u', 2, { ref: 'r' })]);
      for (const i of order) feed([purchase('u', 'o' + i, amounts[i], 'USD', 3, { id: 'p' + i })]);
      return attribution.attributionOf('app', 'r')!.chain_referred_revenue.USD;
    };
    const expected = amounts.reduce((s, a) => s + toMicros(a), 0) / 1e6;
    expect(total([0, 1, 2, 3, 4])).toBe(expected);
    expect(total([4, 3, 2, 1, 0])).toBe(expected);
  });
});
