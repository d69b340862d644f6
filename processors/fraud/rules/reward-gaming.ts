// reward_gaming (design §5): "a reward is claimed by a user flagged with any other signal, or by a
// referrer more than 20 times in 24 h".
//
// Each claim is a distinct reward_id of the user, at its earliest reward_claimed event. Every
// claim by a user flagged with another signal is a signal of its own (identity: the claim event),
// since each is a reward to review or claw back. For bursts the identity is the claim that closed
// the first half-open 24 h span holding more than 20 claims. Both reasons on one claim give one
// row whose evidence carries both. The claimer is not required to have a referral edge: rewards
// in this product are referral rewards, so a claimer is a referrer by construction.
import type { FraudConfig } from '../config.ts';
import { type Detection, type SignalName, type Stamp, iso } from '../types.ts';
import { firstCrossing } from '../window.ts';

export interface Claim extends Stamp {
  reward_id: string;
  amount: number;
  currency: string;
}

/**
 * reward_gaming detections for one user. `claims` sorted by compareStamps; `otherSignals` the
 * user's signals other than reward_gaming, sorted (empty when the user is not flagged).
 */
export function rewardGaming(userId: string, claims: readonly Claim[], otherSignals: readonly SignalName[], cfg: FraudConfig): Detection[] {
  const burst = firstCrossing(claims, cfg.rewardSpanMs, cfg.rewardMaxClaims);
  const found: Detection[] = [];
  claims.forEach((claim, i) => {
    const closesBurst = burst !== null && burst.end === i;
    if (otherSignals.length === 0 && !closesBurst) return;
    found.push({
      user_id: userId,
      signal: 'reward_gaming',
      event_id: claim.event_id,
      at: claim.at,
      evidence: {
        reward_id: claim.reward_id,
        amount: claim.amount,
        currency: claim.currency,
        ...(otherSignals.length > 0 ? { flagged_signals: [...otherSignals] } : {}),
        ...(closesBurst
          ? { burst: { claims: burst.hi - burst.lo + 1, span_start: iso(claims[burst.lo].at), span_end: iso(claim.at), max_claims: cfg.rewardMaxClaims } }
          : {}),
      },
    });
  });
  return found;
}
