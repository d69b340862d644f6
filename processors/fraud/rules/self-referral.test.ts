import { describe, expect, it } from 'vitest';
import type { Invitation } from '../../referral-graph/types.ts';
import { type SignupFact, resolveReferrer, selfReferral } from './self-referral.ts';

const T = Date.UTC(2026, 10, 2, 9, 0, 0);
const makeSignup = (over: Partial<SignupFact> = {}): SignupFact => ({ at: T, event_id: 'e1', user_id: 'bob', invite_id: '', referrer_id: '', device_hash: 'dev-b', ...over });
const invitationFrom = (sender: string): Invitation => ({ app_id: 'a1', invite_id: 'i1', sender_id: sender, sent_at: T - 60_000, channel: 'sms', variant: '', event_id: 'e0' });
const noDevices = () => false;

describe('resolveReferrer', () => {
  it.each([
    { signup: makeSignup({ invite_id: 'i1', referrer_id: 'carol' }), invitation: invitationFrom('alice'), expected: { referrer_id: 'alice', via: 'invite' }, description: 'the invitation sender wins over referrer_id' },
    { signup: makeSignup({ invite_id: 'i1', referrer_id: 'carol' }), invitation: undefined, expected: { referrer_id: 'carol', via: 'referrer_id' }, description: 'referrer_id while the invitation is unknown' },
    { signup: makeSignup({ invite_id: 'i1' }), invitation: undefined, expected: null, description: 'nothing resolvable yet' },
    { signup: makeSignup(), invitation: undefined, expected: null, description: 'a root sign-up' },
  ])('$description', ({ signup, invitation, expected }) => {
    expect(resolveReferrer(signup, invitation)).toEqual(expected);
  });
});

describe('selfReferral', () => {
  it('fires on a first sign-up naming the user as referrer (the rejected edge)', () => {
    const s = makeSignup({ referrer_id: 'bob' });
    expect(selfReferral(s, resolveReferrer(s, undefined), true, noDevices)).toEqual({
      user_id: 'bob',
      signal: 'self_referral',
      event_id: 'e1',
      at: T,
      evidence: { reason: 'own_referrer', via: 'referrer_id', invite_id: '', referrer_id: 'bob', first_signup: true },
    });
  });

  it('fires on a later sign-up accepting the user’s own invitation', () => {
    const s = makeSignup({ event_id: 'e9', invite_id: 'i1' });
    expect(selfReferral(s, resolveReferrer(s, invitationFrom('bob')), false, noDevices)?.evidence).toEqual({
      reason: 'own_referrer',
      via: 'invite',
      invite_id: 'i1',
      referrer_id: 'bob',
      first_signup: false,
    });
  });

  it('fires when the referrer used the new user’s device, and keeps the referrer in evidence', () => {
    const s = makeSignup({ invite_id: 'i1' });
    const d = selfReferral(s, resolveReferrer(s, invitationFrom('alice')), true, (h) => h === 'dev-b');
    expect(d?.evidence).toEqual({ reason: 'shared_device', via: 'invite', invite_id: 'i1', referrer_id: 'alice', device_hash: 'dev-b' });
  });

  it.each([
    { signup: makeSignup({ invite_id: 'i1' }), devices: (h: string) => h === 'dev-a', description: 'referrer on another device' },
    { signup: makeSignup({ invite_id: 'i1', device_hash: '' }), devices: () => true, description: 'sign-up without a device' },
    { signup: makeSignup(), devices: () => true, description: 'no referrer at all' },
  ])('stays silent: $description', ({ signup, devices }) => {
    const referrer = signup.invite_id ? resolveReferrer(signup, invitationFrom('alice')) : null;
    expect(selfReferral(signup, referrer, true, devices)).toBeNull();
  });
});
