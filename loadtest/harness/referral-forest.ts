// The synthetic referral forest of the graph benchmark (issue 4 "Benchmark": 1M users, 1M edges).
// The demo generator (design §8) gives ~13 events per user and no control over the shape, so the
// benchmark builds the graph's own input directly: every user signs up once, in time order; a
// fixed number of them are roots, every other one names a uniformly random earlier user — by
// invitation (the referrer's `invite_sent` just before, then a `signup` with its invite_id) for
// `inviteShare` of them, else by referral code (`referrer_id`). Ids have the demo's shape
// (`u_<tag>_<base36>`, core/demo/generator.ts) so their strings cost what production's short ids
// cost. Deterministic for a seed.
import { CHANNELS, emptyEvent, type ViralEvent } from '../../core/events/types.ts';

export interface ForestSpec {
  users: number;
  roots: number;
  /** Share of the referred users that accept an invitation (the rest use a referral code). */
  inviteShare: number;
  seed: number;
  appId: string;
  /** occurred_at of the first sign-up; user i signs up at start + i s. */
  start: number;
}

/** Is user i one of the `roots` (spread evenly, user 0 always)? Exactly `roots` users are. */
export function isRoot(i: number, users: number, roots: number): boolean {
  return i === 0 || Math.floor((i * roots) / users) > Math.floor(((i - 1) * roots) / users);
}

/** The events of every user in sign-up order: [signup] for a root or a code, [invite_sent, signup] for an invitation. */
export function* forestEvents(s: ForestSpec): Generator<ViralEvent[]> {
  let state = s.seed >>> 0 || 1;
  // xorshift32: deterministic, and cheap next to the graph work being measured.
  const rnd = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const tag = `g${s.seed.toString(36)}`;
  const user = (i: number) => `u_${tag}_${i.toString(36)}`;
  let eventSeq = 0;
  const base = (type: ViralEvent['type'], userId: string, at: number): ViralEvent => ({
    ...emptyEvent(),
    app_id: s.appId,
    event_id: `e_${tag}_${(eventSeq++).toString(36)}`,
    type,
    occurred_at: at,
    received_at: at,
    user_id: userId,
    // What ingest stores: salted SHA-256 hex (design §10); the graph never keeps it.
    device_hash: (i32hex(eventSeq) + i32hex(s.seed)).repeat(4),
  });
  for (let i = 0; i < s.users; i++) {
    const at = s.start + i * 1000;
    if (isRoot(i, s.users, s.roots)) {
      yield [{ ...base('signup', user(i), at), properties: {} }];
      continue;
    }
    const referrer = user(Math.floor(rnd() * i));
    if (rnd() < s.inviteShare) {
      const inviteId = `i_${tag}_${i.toString(36)}`;
      const channel = CHANNELS[i % CHANNELS.length];
      yield [
        { ...base('invite_sent', referrer, at - 500), invite_id: inviteId, channel, properties: { invite_id: inviteId, channel } },
        { ...base('signup', user(i), at), invite_id: inviteId, properties: { invite_id: inviteId } },
      ];
    } else {
      yield [{ ...base('signup', user(i), at), referrer_id: referrer, properties: { referrer_id: referrer } }];
    }
  }
}

const i32hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
