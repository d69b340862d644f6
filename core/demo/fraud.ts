// Injected fraud for the demo stream (design §8: "a small share of fraud is injected"), one planner
// per pattern. Each case is a self-contained group of fraud actors that never interacts with the
// honest population, so the ground truth can say exactly which users each §5 signal must flag.
import type { Channel } from '../events/types.ts';
import type { Random } from './prng.ts';
import { stamp, type Actor, type PostedEvent } from './posted-event.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

export const FRAUD_PATTERNS = [
  'self_referral',
  'shared_device',
  'referral_ring',
  'invite_burst',
  'device_farm',
  'fast_conversion',
  'reward_gaming',
] as const;
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

/** The fixed signal names of design §5. */
export type FraudSignal = 'self_referral' | 'referral_cycle' | 'invite_velocity' | 'device_reuse' | 'fast_conversion' | 'reward_gaming';

/** Which §5 signal each injected pattern must raise. */
export const SIGNAL_OF: Readonly<Record<FraudPattern, FraudSignal>> = {
  self_referral: 'self_referral',
  shared_device: 'self_referral',
  referral_ring: 'referral_cycle',
  invite_burst: 'invite_velocity',
  device_farm: 'device_reuse',
  fast_conversion: 'fast_conversion',
  reward_gaming: 'reward_gaming',
};

export interface FraudCase {
  pattern: FraudPattern;
  signal: FraudSignal;
  /** Users the signal must flag. */
  user_ids: string[];
  /** Accomplices that take part but need not be flagged (the referrer of a shared device, ring members whose edge is kept, the inviter of a bot). */
  related_user_ids: string[];
  /** Every event of the case. */
  event_ids: string[];
  /** Epoch ms of the first and last event. */
  started_at: number;
  ended_at: number;
}

/** A fraud actor: the user, and the same person as an anonymous visitor before sign-up. */
export interface Person {
  user: Actor;
  visitor: Actor;
}

/** Identity and randomness the generator lends the planners (the fraud namespace of ids). */
export interface FraudKit {
  rng: Random;
  /** A new person with an own device. */
  newPerson(device?: string): Person;
  newDevice(): string;
  newInviteId(): string;
  newRewardId(): string;
  newEventId(): string;
  pickChannel(): Channel;
}

export interface PlannedEvent {
  at: number;
  event: PostedEvent;
  /** Set on a sign-up that accepts an invitation sent over this channel (ground truth). */
  accepts?: Channel;
}

export interface FraudPlan {
  fraudCase: FraudCase;
  events: PlannedEvent[];
}

/**
 * Plans one case of `pattern` starting at `t`: the events with their times and the case record.
 * Every case stays well inside 24 h, so it fits the §5 windows it is meant to trip.
 */
export function planFraudCase(pattern: FraudPattern, t: number, kit: FraudKit): FraudPlan {
  const { rng } = kit;
  const events: PlannedEvent[] = [];
  const at = (ms: number) => Math.round(ms);
  const add = (ms: number, actor: Actor, type: PostedEvent['type'], properties: PostedEvent['properties'], accepts?: Channel) => {
    const event: PostedEvent = {
      event_id: kit.newEventId(),
      type,
      occurred_at: stamp(at(ms), actor.clock),
      user_id: actor.id,
      device_id: actor.device,
      properties,
    };
    events.push(accepts ? { at: at(ms), event, accepts } : { at: at(ms), event });
  };
  let flagged: Person[] = [];
  let related: Person[] = [];

  switch (pattern) {
    case 'self_referral': {
      // §5: referrer = user; the edge is rejected.
      const x = kit.newPerson();
      add(t, x.user, 'signup', { referrer_id: x.user.id });
      flagged = [x];
      break;
    }
    case 'shared_device': {
      // §5: referrer and new user share the device; flagged, edge kept. Delays are human-like so
      // only this signal fires.
      const r = kit.newPerson();
      const n = kit.newPerson(r.user.device);
      const invite = kit.newInviteId();
      const channel = kit.pickChannel();
      const sent = t + rng.uniform(20 * MIN, 2 * HOUR);
      const opened = sent + rng.uniform(2 * MIN, 30 * MIN);
      const clicked = opened + rng.uniform(5 * SEC, 60 * SEC);
      add(t, r.user, 'signup', {});
      add(sent, r.user, 'invite_sent', { invite_id: invite, channel });
      add(opened, n.visitor, 'invite_opened', { invite_id: invite });
      add(clicked, n.visitor, 'invite_clicked', { invite_id: invite });
      add(clicked + rng.uniform(1 * MIN, 20 * MIN), n.user, 'signup', { invite_id: invite }, channel);
      flagged = [n];
      related = [r];
      break;
    }
    case 'referral_ring': {
      // Each member's first sign-up names the previous member as referrer, the first names the
      // last (before the last exists: the §5 waiting edge); the last sign-up closes the cycle.
      const ring = Array.from({ length: rng.int(3, 4) }, () => kit.newPerson());
      let when = t;
      ring.forEach((m, i) => {
        add(when, m.user, 'signup', { referrer_id: ring[(i + ring.length - 1) % ring.length].user.id });
        when += rng.uniform(10 * MIN, 90 * MIN);
      });
      flagged = ring.slice(-1);
      related = ring.slice(0, -1);
      break;
    }
    case 'invite_burst': {
      // §5 invite_velocity: > 50 invitations within one hour; honest users send at most 10.
      const b = kit.newPerson();
      add(t, b.user, 'signup', {});
      const start = t + rng.uniform(5 * MIN, 30 * MIN);
      const times = Array.from({ length: rng.int(55, 90) }, () => at(start + rng.uniform(0, 45 * MIN))).sort((x, y) => x - y);
      for (const when of times) add(when, b.user, 'invite_sent', { invite_id: kit.newInviteId(), channel: kit.pickChannel() });
      flagged = [b];
      break;
    }
    case 'device_farm': {
      // §5 device_reuse: 3+ distinct users sign up from one device within 24 h (here ≤ 6 h).
      const device = kit.newDevice();
      const farm = Array.from({ length: rng.int(3, 6) }, () => kit.newPerson(device));
      const times = farm.map(() => at(t + rng.uniform(0, 6 * HOUR))).sort((x, y) => x - y);
      farm.forEach((m, i) => add(times[i], m.user, 'signup', {}));
      flagged = farm;
      break;
    }
    case 'fast_conversion': {
      // §5 fast_conversion: a bot opens, clicks and signs up 2–8 s after the invitation was sent.
      const f = kit.newPerson();
      const n = kit.newPerson();
      const invite = kit.newInviteId();
      const channel = kit.pickChannel();
      const sent = at(t + rng.uniform(10 * MIN, HOUR));
      const total = rng.int(2 * SEC, 8 * SEC);
      add(t, f.user, 'signup', {});
      add(sent, f.user, 'invite_sent', { invite_id: invite, channel });
      add(sent + total / 4, n.visitor, 'invite_opened', { invite_id: invite });
      add(sent + total / 2, n.visitor, 'invite_clicked', { invite_id: invite });
      add(sent + total, n.user, 'signup', { invite_id: invite }, channel);
      flagged = [n];
      related = [f];
      break;
    }
    case 'reward_gaming': {
      // §5 reward_gaming: more than 20 claims by one referrer within 24 h (here 22–35 in ≤ 12 h).
      const g = kit.newPerson();
      add(t, g.user, 'signup', {});
      const span = rng.uniform(2 * HOUR, 12 * HOUR);
      const times = Array.from({ length: rng.int(22, 35) }, () => at(t + 10 * MIN + rng.uniform(0, span))).sort((x, y) => x - y);
      for (const when of times) add(when, g.user, 'reward_claimed', { reward_id: kit.newRewardId(), amount: 5, currency: 'USD' });
      flagged = [g];
      break;
    }
  }

  const times = events.map((e) => e.at);
  return {
    fraudCase: {
      pattern,
      signal: SIGNAL_OF[pattern],
      user_ids: flagged.map((p) => p.user.id),
      related_user_ids: related.map((p) => p.user.id),
      event_ids: events.map((e) => e.event.event_id),
      started_at: Math.min(...times),
      ended_at: Math.max(...times),
    },
    events,
  };
}
