import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAUD_CONFIG } from '../config.ts';
import { compareStamps } from '../types.ts';
import { type Claim, rewardGaming } from './reward-gaming.ts';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY = 86_400_000;
/** n claims, the first at T and the last at T + last. */
const claims = (n: number, last: number): Claim[] =>
  Array.from({ length: n }, (_, i) => ({ at: T + Math.round((last * i) / Math.max(1, n - 1)), event_id: `c${String(i).padStart(2, '0')}`, reward_id: `r${i}`, amount: 5, currency: 'USD' })).sort(compareStamps);

describe('rewardGaming', () => {
  it('fires once on 21 claims within 24 h, at the 21st, with exact evidence', () => {
    expect(rewardGaming('g', claims(21, DAY - 1), [], DEFAULT_FRAUD_CONFIG)).toEqual([
      {
        user_id: 'g',
        signal: 'reward_gaming',
        event_id: 'c20',
        at: T + DAY - 1,
        evidence: {
          reward_id: 'r20',
          amount: 5,
          currency: 'USD',
          burst: { claims: 21, span_start: new Date(T).toISOString(), span_end: new Date(T + DAY - 1).toISOString(), max_claims: 20 },
        },
      },
    ]);
  });

  it.each([
    { n: 20, last: DAY - 1, description: '20 claims within 24 h' },
    { n: 21, last: DAY, description: '21 claims whose first and last are exactly 24 h apart' },
  ])('stays silent on $description', ({ n, last }) => {
    expect(rewardGaming('g', claims(n, last), [], DEFAULT_FRAUD_CONFIG)).toEqual([]);
  });

  it('flags every claim of a user flagged with another signal, naming those signals', () => {
    const found = rewardGaming('g', claims(2, 1000), ['device_reuse', 'fast_conversion'], DEFAULT_FRAUD_CONFIG);
    expect(found.map((d) => [d.event_id, d.evidence])).toEqual([
      ['c00', { reward_id: 'r0', amount: 5, currency: 'USD', flagged_signals: ['device_reuse', 'fast_conversion'] }],
      ['c01', { reward_id: 'r1', amount: 5, currency: 'USD', flagged_signals: ['device_reuse', 'fast_conversion'] }],
    ]);
  });

  it('merges both reasons into the one row of the burst-closing claim', () => {
    const found = rewardGaming('g', claims(21, 1000), ['self_referral'], DEFAULT_FRAUD_CONFIG);
    expect(found).toHaveLength(21);
    expect(found[20].evidence).toMatchObject({ flagged_signals: ['self_referral'], burst: { claims: 21 } });
    expect(found[19].evidence).not.toHaveProperty('burst');
  });
});
