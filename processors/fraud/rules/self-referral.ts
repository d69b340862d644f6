// self_referral (design §5): "referrer = user — the edge is rejected; or referrer and new user
// share the hashed device id — flagged, edge kept; IP alone is never evidence", and "a later
// sign-up naming the user as their own referrer still raises self_referral".
//
// Evaluated per sign-up event, so the rejected first-sign-up edge and every later self-naming
// sign-up are the same rule and each is its own signal (identity: the sign-up event). The
// referrer is resolved like the graph does (§5): the invitation's sender when the invitation is
// known, else `referrer_id`. Shared device: the sign-up's device hash is one the referrer used on
// any of their own events (an invitation sent from the phone the "new user" then signs up on).
// The flagged user is the new user: their referral is the suspect one, and flagging them removes
// it from the referrer's quality referrals (§5 super-connectors).
import type { Invitation } from '../../referral-graph/types.ts';
import type { Detection, Stamp } from '../types.ts';

export interface SignupFact extends Stamp {
  user_id: string;
  invite_id: string;
  referrer_id: string;
  /** Salted device hash, '' when absent. */
  device_hash: string;
}

export interface ResolvedReferrer {
  referrer_id: string;
  via: 'invite' | 'referrer_id';
}

/** §5 referrer of a sign-up: invitation sender if known, else referrer_id; null if it names none (yet). */
export function resolveReferrer(signup: SignupFact, invitation: Invitation | undefined): ResolvedReferrer | null {
  if (invitation) return { referrer_id: invitation.sender_id, via: 'invite' };
  if (signup.referrer_id !== '') return { referrer_id: signup.referrer_id, via: 'referrer_id' };
  return null;
}

/**
 * self_referral for one sign-up, or null. `firstSignup` says whether it is the user's first
 * sign-up (the one whose self edge the graph rejects); `referrerUsedDevice(hash)` whether the
 * resolved referrer has used that hashed device.
 */
export function selfReferral(
  signup: SignupFact,
  referrer: ResolvedReferrer | null,
  firstSignup: boolean,
  referrerUsedDevice: (deviceHash: string) => boolean,
): Detection | null {
  if (!referrer) return null;
  const base = { user_id: signup.user_id, signal: 'self_referral' as const, event_id: signup.event_id, at: signup.at };
  if (referrer.referrer_id === signup.user_id) {
    return {
      ...base,
      evidence: { reason: 'own_referrer', via: referrer.via, invite_id: signup.invite_id, referrer_id: referrer.referrer_id, first_signup: firstSignup },
    };
  }
  if (signup.device_hash !== '' && referrerUsedDevice(signup.device_hash)) {
    return {
      ...base,
      evidence: { reason: 'shared_device', via: referrer.via, invite_id: signup.invite_id, referrer_id: referrer.referrer_id, device_hash: signup.device_hash },
    };
  }
  return null;
}
