import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAUD_CONFIG } from '../config.ts';
import type { Invitation } from '../../referral-graph/types.ts';
import { fastConversion } from './fast-conversion.ts';
import type { SignupFact } from './self-referral.ts';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const invitation: Invitation = { app_id: 'a1', invite_id: 'i1', sender_id: 'alice', sent_at: T, channel: 'email', variant: '', event_id: 'e-inv' };
const signup = (delay: number): SignupFact => ({ at: T + delay, event_id: 'e-su', user_id: 'bob', invite_id: 'i1', referrer_id: '', device_hash: '' });

describe('fastConversion', () => {
  it('fires at 9.999 s with exact evidence', () => {
    expect(fastConversion(signup(9_999), invitation, DEFAULT_FRAUD_CONFIG)).toEqual({
      user_id: 'bob',
      signal: 'fast_conversion',
      event_id: 'e-su',
      at: T + 9_999,
      evidence: {
        invite_id: 'i1',
        inviter_id: 'alice',
        invite_event_id: 'e-inv',
        sent_at: new Date(T).toISOString(),
        signup_at: new Date(T + 9_999).toISOString(),
        delay_ms: 9_999,
        min_delay_ms: 10_000,
      },
    });
  });

  it.each([
    { delay: 10_000, fires: false, description: 'exactly 10 s: not less than 10 s' },
    { delay: 45_000, fires: false, description: 'a quick human' },
    { delay: 0, fires: true, description: 'the same millisecond' },
    { delay: -2_000, fires: true, description: 'a sign-up stamped before its invitation' },
  ])('$description → fires: $fires', ({ delay, fires }) => {
    expect(fastConversion(signup(delay), invitation, DEFAULT_FRAUD_CONFIG) !== null).toBe(fires);
  });

  it('takes its threshold from the config', () => {
    expect(fastConversion(signup(9_999), invitation, { ...DEFAULT_FRAUD_CONFIG, fastConversionMs: 5_000 })).toBeNull();
  });
});
