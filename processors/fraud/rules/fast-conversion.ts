// fast_conversion (design §5): "the new user's sign-up came less than 10 s after the accepted
// invitation was sent". Evaluated for every sign-up that names an invitation (§3: such a sign-up
// is an acceptance), against the invitation's send time as the referral graph resolves it (the
// earliest invite_sent of that invite_id). A sign-up stamped BEFORE its invitation was sent also
// fires (negative delay): ingest already corrected client clock skew (§3 sent_at), so an
// acceptance preceding its invitation is as implausible for a human as one 3 s after it.
import type { FraudConfig } from '../config.ts';
import type { Invitation } from '../../referral-graph/types.ts';
import { type Detection, iso } from '../types.ts';
import type { SignupFact } from './self-referral.ts';

/** fast_conversion for one accepting sign-up, or null when the delay is ≥ the threshold. */
export function fastConversion(signup: SignupFact, invitation: Invitation, cfg: FraudConfig): Detection | null {
  const delay = signup.at - invitation.sent_at;
  if (delay >= cfg.fastConversionMs) return null;
  return {
    user_id: signup.user_id,
    signal: 'fast_conversion',
    event_id: signup.event_id,
    at: signup.at,
    evidence: {
      invite_id: invitation.invite_id,
      inviter_id: invitation.sender_id,
      invite_event_id: invitation.event_id,
      sent_at: iso(invitation.sent_at),
      signup_at: iso(signup.at),
      delay_ms: delay,
      min_delay_ms: cfg.fastConversionMs,
    },
  };
}
