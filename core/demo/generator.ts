// Demo stream generator (design §8): viral growth as a branching process, in the posted form of
// design §3, deterministic for a seed, with its own ground truth.
//
// It is a discrete-event simulation. An agenda (min-heap on time) holds what happens next: a
// seed user arriving, an invitation being sent, an invitee signing up, a purchase, ... Running an
// action at time t emits the events of that moment and schedules later actions, so events come
// out in time order, and `next(until)` can stop at any wall time and resume later with exactly
// the same result as one long run. Honest users and injected fraud draw from separate PRNG
// streams and id namespaces, so the fraud cases a batch leaves out (those that would end after
// `now`) change nothing else.
import { CHANNELS, EVENT_TYPES, type Channel, type EventType } from '../events/types.ts';
import { FRAUD_PATTERNS, planFraudCase, type FraudCase, type FraudKit, type FraudPattern, type Person } from './fraud.ts';
import { fnv1a, Random } from './prng.ts';
import { stamp, type Actor, type ClientClock, type PostedEvent } from './posted-event.ts';
import { assignmentBucket } from '../experiments/assign.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface ChannelModel {
  /** Relative share of invitations sent over the channel. */
  share: number;
  /** Probability that an invitation over the channel is accepted (variant control). */
  acceptance: number;
}

/** Channel mix and acceptance rates: personal channels convert better than a broadcast link. */
export const DEFAULT_CHANNELS: Readonly<Record<Channel, ChannelModel>> = {
  email: { share: 0.34, acceptance: 0.1 },
  sms: { share: 0.14, acceptance: 0.16 },
  whatsapp: { share: 0.22, acceptance: 0.26 },
  link: { share: 0.24, acceptance: 0.07 },
  other: { share: 0.06, acceptance: 0.04 },
};

/**
 * Experiments the demo exposes users to (§6), 50/50 between `control` and `b`. `invite_flow`
 * variant b multiplies acceptance by `inviteFlowLift`, so the experiment shows an effect;
 * `onboarding_copy` changes nothing (an A/A check for the statistics).
 */
export const EXPERIMENTS = [
  { id: 'invite_flow', exposure: 1 },
  { id: 'onboarding_copy', exposure: 0.6 },
] as const;
export const VARIANTS = ['control', 'b'] as const;

/**
 * 50/50 assignment by the api's own rule (core/experiments/assign.ts: hash of experiment id and
 * user id into 10,000 buckets, design §6), so demo exposures match what the assignment route says.
 */
export function assignVariant(experimentId: string, userId: string): (typeof VARIANTS)[number] {
  return assignmentBucket(experimentId, userId) < 5_000 ? 'control' : 'b';
}

/** The definitions of the demo's experiments, as PUT to /v1/experiments/:id by the start command. */
export const DEMO_EXPERIMENT_DEFINITIONS = {
  invite_flow: { variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 50 }], control: 'control', goal: { kind: 'conversion', event: 'invite_accepted' } },
  onboarding_copy: { variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 50 }], control: 'control', goal: { kind: 'conversion', event: 'invite_sent' } },
} as const;

/**
 * Honest behaviour. Expected referrals per user ≈ 0.5 × 4.5 invitations × ~0.17 acceptance
 * + 0.15 × 1.6 referral-code sign-ups ≈ 0.6: a subcritical branching process, so chains reach
 * depth 3+ yet a stream that runs forever holds a steady rate (measured: ~2.5 users per seed user).
 */
const HONEST = {
  inviterShare: 0.5,
  invitesMore: 0.78,
  maxInvites: 15,
  /** Spacing of one user's invitations: at most 10 fit in any hour (§5 invite_velocity is > 50). */
  minInviteGap: 6.5 * MIN,
  firstInviteMean: 6 * HOUR,
  sameSession: 0.6,
  inSessionMean: 5 * MIN,
  betweenSessionsMean: 1.5 * DAY,
  openShare: 0.35,
  clickShare: 0.35,
  codeShare: 0.15,
  codeMore: 0.4,
  /** 15 invitations + 4 code referrals keep every referrer at ≤ 19 rewards, under §5's 20 in 24 h. */
  maxCodeReferrals: 4,
  codeDelayMean: 2 * DAY,
  payerShare: 0.22,
  purchaseMore: 0.45,
  maxPurchases: 5,
  purchaseDelayMean: 2 * DAY,
  refundShare: 0.05,
  rewardShare: 0.6,
  eurShare: 0.35,
  prices: [4.99, 9.99, 19.99, 49.99, 99],
  domains: ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'proton.me', 'example.org'],
} as const;

/** UTC offsets web clients write into RFC 3339 timestamps. */
const OFFSETS = [60, 120, -300, -480, 330, 540];

export interface DemoOptions {
  seed: number;
  /** Epoch ms. A batch ends here; a stream starts its live part here. */
  now: number;
  /** Simulated history before `now`, in days, at most 30 (§3's ingest bound). Default 14. */
  days?: number;
  /**
   * Volume knob: organic (no referrer) sign-ups over `days`; a stream keeps that rate. With its
   * descendants a seed user brings ~12 events to a 14-day history (chains are still growing) and
   * ~18 in the steady state: the default 5000 over 14 days gives ~60k events of history, then
   * ~6.4k events per simulated day.
   */
  seedUsers?: number;
  /** Injected cases of each fraud pattern per simulated day. Default 1; 0 disables fraud. */
  fraudPerDay?: number;
  channels?: Partial<Record<Channel, ChannelModel>>;
  /** Acceptance multiplier of `invite_flow` variant b. Default 1.5. */
  inviteFlowLift?: number;
  /** Tag in every id (1–16 alphanumerics), so runs started at different times never share ids. Default: a hash of seed and now. */
  runId?: string;
}

export interface ChannelTruth {
  invites_sent: number;
  /** Invitations accepted by a sign-up (each at most once; no injected acceptance is one §5 rejects). */
  invites_accepted: number;
}

export interface CurrencyTruth {
  purchases: number;
  refunds: number;
  gross: number;
  refunded: number;
  net: number;
}

export interface VariantTruth {
  /** Distinct exposed users. */
  users: number;
  /** Exposed users with at least one accepted invitation (§6 goal `invite_accepted`). */
  invite_accepted_users: number;
}

/** What the generator knows it produced (design §8), for checking the pipeline's numbers. */
export interface DemoTruth {
  /** Simulated span [from, to], epoch ms. */
  from: number;
  to: number;
  events: number;
  events_by_type: Record<EventType, number>;
  channels: Record<Channel, ChannelTruth>;
  signups: { organic: number; invite: number; referral_code: number };
  /** Per ISO 4217 code, amounts in currency units. */
  revenue: Record<string, CurrencyTruth>;
  /** experiment id → variant → counts. */
  experiments: Record<string, Record<string, VariantTruth>>;
  /** Completed injected cases, in order of completion. */
  fraud: FraudCase[];
}

export interface DemoStream {
  /** Events with occurred_at in (previous until, untilMs], in time order. */
  next(untilMs: number): PostedEvent[];
  /** Ground truth of everything yielded so far. */
  truth(): DemoTruth;
}

interface Resolved {
  seed: number;
  start: number;
  seedMean: number;
  fraudInterval: number;
  channels: Record<Channel, ChannelModel>;
  lift: number;
  tag: string;
}

function resolve(o: DemoOptions): Resolved {
  const days = o.days ?? 14;
  const seedUsers = o.seedUsers ?? 5000;
  const fraudPerDay = o.fraudPerDay ?? 1;
  const lift = o.inviteFlowLift ?? 1.5;
  const channels = { ...DEFAULT_CHANNELS, ...o.channels };
  const tag = o.runId ?? fnv1a(`${o.seed}:${o.now}`).toString(36);
  if (!Number.isInteger(o.seed)) throw new RangeError('seed must be an integer');
  if (!Number.isSafeInteger(o.now)) throw new RangeError('now must be epoch milliseconds');
  if (!(days > 0 && days <= 30)) throw new RangeError('days must be in (0, 30]');
  if (!(seedUsers >= 0) || !(fraudPerDay >= 0) || !(lift >= 0)) throw new RangeError('seedUsers, fraudPerDay and inviteFlowLift must be ≥ 0');
  if (!/^[A-Za-z0-9]{1,16}$/.test(tag)) throw new RangeError('runId must be 1–16 letters or digits');
  for (const c of CHANNELS) {
    const m = channels[c];
    if (!(m.share >= 0) || !(m.acceptance >= 0 && m.acceptance <= 1)) throw new RangeError(`channel ${c}: share ≥ 0 and acceptance in [0, 1]`);
  }
  if (CHANNELS.every((c) => channels[c].share === 0)) throw new RangeError('at least one channel needs a share > 0');
  return {
    seed: o.seed,
    start: o.now - Math.round(days * DAY),
    seedMean: seedUsers > 0 ? (days * DAY) / seedUsers : Infinity,
    fraudInterval: fraudPerDay > 0 ? DAY / fraudPerDay : Infinity,
    channels,
    lift,
    tag,
  };
}

/** Min-heap of actions on (time, insertion order): ties run in the order they were scheduled. */
class Agenda {
  private readonly heap: { t: number; seq: number; run: (t: number) => void }[] = [];
  private seq = 0;

  get nextTime(): number {
    return this.heap.length ? this.heap[0].t : Infinity;
  }

  push(t: number, run: (t: number) => void): void {
    const h = this.heap;
    const item = { t, seq: this.seq++, run };
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(item, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = item;
  }

  pop(): { t: number; run: (t: number) => void } {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && this.less(h[l + 1], h[l]) ? l + 1 : l;
        if (!this.less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private less(a: { t: number; seq: number }, b: { t: number; seq: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
}

interface Member extends Person {
  currency: 'USD' | 'EUR';
  inviteVariant: string;
  exposures: { experiment: string; variant: string; credited: boolean }[];
}

/** Ids of one namespace: honest and fraud ids interleave (even / odd counters) and never collide. */
function idSpace(tag: string, ns: 0 | 1) {
  const counters = { person: 0, invite: 0, order: 0, reward: 0, event: 0 };
  const next = (kind: keyof typeof counters) => (2 * counters[kind]++ + ns).toString(36);
  return {
    person: () => next('person'),
    invite: () => `i_${tag}_${next('invite')}`,
    order: () => `o_${tag}_${next('order')}`,
    reward: () => `r_${tag}_${next('reward')}`,
    event: () => `e_${tag}_${next('event')}`,
  };
}

function newClock(rng: Random): ClientClock {
  const x = rng.float();
  if (x < 0.5) return { kind: 'epoch' };
  return { kind: 'rfc3339', offsetMinutes: x < 0.8 ? 0 : rng.pick(OFFSETS) };
}

function emptyTruth(from: number): DemoTruth {
  const experiments: DemoTruth['experiments'] = {};
  for (const e of EXPERIMENTS) {
    experiments[e.id] = Object.fromEntries(VARIANTS.map((v) => [v, { users: 0, invite_accepted_users: 0 }]));
  }
  return {
    from,
    to: from,
    events: 0,
    events_by_type: Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>,
    channels: Object.fromEntries(CHANNELS.map((c) => [c, { invites_sent: 0, invites_accepted: 0 }])) as Record<Channel, ChannelTruth>,
    signups: { organic: 0, invite: 0, referral_code: 0 },
    revenue: {},
    experiments,
    fraud: [],
  };
}

const cents = (amount: number) => Math.round(amount * 100);

function createEngine(options: DemoOptions, fraudHorizon: number): DemoStream {
  const cfg = resolve(options);
  const agenda = new Agenda();
  const rng = new Random(cfg.seed);
  const fraudRng = new Random(cfg.seed ^ 0x5f3759df);
  const honestIds = idSpace(cfg.tag, 0);
  const fraudIds = idSpace(cfg.tag, 1);
  const truth = emptyTruth(cfg.start);
  const revenueCents: Record<string, CurrencyTruth> = {};
  const shares = Object.fromEntries(CHANNELS.map((c) => [c, cfg.channels[c].share])) as Record<Channel, number>;
  let out: PostedEvent[] = [];

  /** Every event leaves through here; the truth counts what was emitted, nothing else. */
  function emit(e: PostedEvent, accepts?: Channel): void {
    out.push(e);
    truth.events++;
    truth.events_by_type[e.type]++;
    const p = e.properties;
    if (e.type === 'invite_sent') truth.channels[p.channel as Channel].invites_sent++;
    else if (e.type === 'signup') truth.signups[p.invite_id ? 'invite' : p.referrer_id ? 'referral_code' : 'organic']++;
    else if (e.type === 'purchase' || e.type === 'refund') {
      const r = (revenueCents[p.currency] ??= { purchases: 0, refunds: 0, gross: 0, refunded: 0, net: 0 });
      if (e.type === 'purchase') {
        r.purchases++;
        r.gross += cents(p.amount as number);
      } else {
        r.refunds++;
        r.refunded += cents(p.amount as number);
      }
    } else if (e.type === 'experiment_exposure') truth.experiments[p.experiment_id][p.variant].users++;
    if (accepts) truth.channels[accepts].invites_accepted++;
  }

  function person(ids: ReturnType<typeof idSpace>, r: Random, device?: string): Person {
    const code = ids.person();
    const clock = newClock(r);
    const dev = device ?? `d_${cfg.tag}_${code}`;
    return { user: { id: `u_${cfg.tag}_${code}`, device: dev, clock }, visitor: { id: `a_${cfg.tag}_${code}`, device: dev, clock } };
  }

  // ---- honest population ------------------------------------------------------------------

  function post(t: number, actor: Actor, type: EventType, properties: PostedEvent['properties'], accepts?: Channel): void {
    // Purchases and refunds come from the app's back end: no device id (the field is optional).
    const serverSide = type === 'purchase' || type === 'refund';
    const e: PostedEvent = { event_id: honestIds.event(), type, occurred_at: stamp(t, actor.clock), user_id: actor.id, properties };
    if (!serverSide) e.device_id = actor.device;
    emit(e, accepts);
  }

  function newMember(): Member {
    const p = person(honestIds, rng);
    return {
      ...p,
      currency: rng.chance(HONEST.eurShare) ? 'EUR' : 'USD',
      inviteVariant: assignVariant('invite_flow', p.user.id),
      exposures: [],
    };
  }

  const delay = (median: number, sigma: number, lo: number, hi: number) => Math.round(Math.min(hi, Math.max(lo, rng.logNormal(median, sigma))));

  function signUp(t: number, m: Member, via: { parent?: Member; invite?: { id: string; channel: Channel } }): void {
    const { parent, invite } = via;
    post(t, m.user, 'signup', invite ? { invite_id: invite.id } : parent ? { referrer_id: parent.user.id } : {}, invite?.channel);
    if (parent) {
      if (invite) {
        for (const x of parent.exposures) {
          if (x.credited) continue;
          x.credited = true;
          truth.experiments[x.experiment][x.variant].invite_accepted_users++;
        }
      }
      if (rng.chance(HONEST.rewardShare)) {
        agenda.push(t + 5 * MIN + Math.round(rng.exponential(6 * HOUR)), (at) =>
          post(at, parent.user, 'reward_claimed', { reward_id: honestIds.reward(), amount: 5, currency: parent.currency }),
        );
      }
    }
    // §6: exposure when the user first sees the flow, always before their first invitation.
    for (const x of EXPERIMENTS) {
      if (!rng.chance(x.exposure)) continue;
      agenda.push(t + rng.int(SEC, 2 * MIN), (at) => {
        const variant = assignVariant(x.id, m.user.id);
        m.exposures.push({ experiment: x.id, variant, credited: false });
        post(at, m.user, 'experiment_exposure', { experiment_id: x.id, variant });
      });
    }
    if (rng.chance(HONEST.inviterShare)) {
      const n = rng.count(HONEST.invitesMore, HONEST.maxInvites);
      agenda.push(t + HONEST.minInviteGap + Math.round(rng.exponential(HONEST.firstInviteMean)), (at) => sendInvite(at, m, n));
    }
    if (rng.chance(HONEST.codeShare)) {
      const n = rng.count(HONEST.codeMore, HONEST.maxCodeReferrals);
      for (let i = 0; i < n; i++) {
        agenda.push(t + 30 * MIN + Math.round(rng.exponential(HONEST.codeDelayMean)), (at) => signUp(at, newMember(), { parent: m }));
      }
    }
    if (rng.chance(HONEST.payerShare)) {
      const n = rng.count(HONEST.purchaseMore, HONEST.maxPurchases);
      for (let i = 0; i < n; i++) agenda.push(t + 2 * MIN + Math.round(rng.exponential(HONEST.purchaseDelayMean)), (at) => purchase(at, m));
    }
  }

  function purchase(t: number, m: Member): void {
    const order = honestIds.order();
    const amount = rng.pick(HONEST.prices);
    post(t, m.user, 'purchase', { order_id: order, amount, currency: m.currency });
    if (rng.chance(HONEST.refundShare)) {
      const refund = rng.chance(0.7) ? amount : Math.round(cents(amount) / 2) / 100;
      agenda.push(t + HOUR + Math.round(rng.exponential(DAY)), (at) => post(at, m.user, 'refund', { order_id: order, amount: refund, currency: m.currency }));
    }
  }

  function sendInvite(t: number, m: Member, remaining: number): void {
    const channel = rng.weighted(shares);
    const inviteId = honestIds.invite();
    const props: PostedEvent['properties'] = { invite_id: inviteId, channel, variant: m.inviteVariant };
    if (channel === 'email') props.recipient_domain = rng.pick(HONEST.domains);
    post(t, m.user, 'invite_sent', props);
    const acceptance = Math.min(1, cfg.channels[channel].acceptance * (m.inviteVariant === 'b' ? cfg.lift : 1));
    // Human delays, heavy-tailed: minutes usually, days sometimes; never under 38 s in total.
    const opened = t + delay(40 * MIN, 1.6, 15 * SEC, 2 * DAY);
    const clicked = opened + delay(MIN, 1, 3 * SEC, DAY);
    if (rng.chance(acceptance)) {
      const invitee = newMember();
      const signed = clicked + delay(4 * MIN, 1.2, 20 * SEC, DAY);
      agenda.push(opened, (at) => post(at, invitee.visitor, 'invite_opened', { invite_id: inviteId }));
      agenda.push(clicked, (at) => post(at, invitee.visitor, 'invite_clicked', { invite_id: inviteId }));
      agenda.push(signed, (at) => signUp(at, invitee, { parent: m, invite: { id: inviteId, channel } }));
    } else if (rng.chance(HONEST.openShare)) {
      const visitor = person(honestIds, rng).visitor;
      agenda.push(opened, (at) => post(at, visitor, 'invite_opened', { invite_id: inviteId }));
      if (rng.chance(HONEST.clickShare)) agenda.push(clicked, (at) => post(at, visitor, 'invite_clicked', { invite_id: inviteId }));
    }
    if (remaining > 1) {
      const gap = HONEST.minInviteGap + Math.round(rng.exponential(rng.chance(HONEST.sameSession) ? HONEST.inSessionMean : HONEST.betweenSessionsMean));
      agenda.push(t + gap, (at) => sendInvite(at, m, remaining - 1));
    }
  }

  function seedArrival(t: number): void {
    signUp(t, newMember(), {});
    agenda.push(t + Math.round(rng.exponential(cfg.seedMean)), seedArrival);
  }

  // ---- injected fraud ---------------------------------------------------------------------

  const kit: FraudKit = {
    rng: fraudRng,
    newPerson: (device) => person(fraudIds, fraudRng, device),
    newDevice: () => `d_${cfg.tag}_${fraudIds.person()}`,
    newInviteId: fraudIds.invite,
    newRewardId: fraudIds.reward,
    newEventId: fraudIds.event,
    pickChannel: () => fraudRng.weighted(shares),
  };

  function fraudArrival(pattern: FraudPattern) {
    const run = (t: number): void => {
      const plan = planFraudCase(pattern, t, kit);
      // A batch leaves out cases that would not be complete by `now`: the truth lists whole cases.
      if (plan.fraudCase.ended_at <= fraudHorizon) {
        let pending = plan.events.length;
        for (const p of plan.events) {
          agenda.push(p.at, () => {
            emit(p.event, p.accepts);
            if (--pending === 0) truth.fraud.push(plan.fraudCase);
          });
        }
      }
      agenda.push(t + Math.round(cfg.fraudInterval * fraudRng.uniform(0.5, 1.5)), run);
    };
    return run;
  }

  if (Number.isFinite(cfg.seedMean)) agenda.push(cfg.start + Math.round(rng.exponential(cfg.seedMean)), seedArrival);
  if (Number.isFinite(cfg.fraudInterval)) {
    for (const pattern of FRAUD_PATTERNS) agenda.push(cfg.start + Math.round(fraudRng.uniform(0, cfg.fraudInterval)), fraudArrival(pattern));
  }

  return {
    next(untilMs) {
      out = [];
      while (agenda.nextTime <= untilMs) {
        const item = agenda.pop();
        item.run(item.t);
      }
      truth.to = Math.max(truth.to, untilMs);
      return out;
    },
    truth() {
      const revenue: DemoTruth['revenue'] = {};
      for (const [cur, r] of Object.entries(revenueCents)) {
        revenue[cur] = { purchases: r.purchases, refunds: r.refunds, gross: r.gross / 100, refunded: r.refunded / 100, net: (r.gross - r.refunded) / 100 };
      }
      return structuredClone({ ...truth, revenue });
    },
  };
}

/**
 * The continuous demo (§8): `next(until)` returns the events with occurred_at in
 * (previous until, until]. The first call with the wall clock yields the `days` of history
 * before `now`; later calls yield the live events as simulated time catches up with the clock.
 * Chunking never changes the output: any sequence of `next` calls gives the same events.
 */
export function createDemoStream(options: DemoOptions): DemoStream {
  return createEngine(options, Infinity);
}

/**
 * A finite batch over [now − days, now], sorted by occurred_at, with its ground truth. Fraud
 * cases that would end after `now` are left out whole; otherwise it equals the stream's events
 * up to `now`.
 */
export function generateDemo(options: DemoOptions): { events: PostedEvent[]; truth: DemoTruth } {
  const engine = createEngine(options, options.now);
  const events = engine.next(options.now);
  return { events, truth: engine.truth() };
}
