import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CHANNELS, EVENT_TYPES, type Channel } from '../events/types.ts';
import { assignVariant, createDemoStream, generateDemo, type DemoOptions } from './generator.ts';
import { DAY, HOUR, SEC, depths, groupBy, ms, recount, violations } from './test-support.ts';

const NOW = Date.UTC(2025, 2, 10, 9, 30);
const BASE: DemoOptions = { seed: 42, now: NOW, days: 14, seedUsers: 1500 };
const base = generateDemo(BASE);

describe('generateDemo: determinism', () => {
  it('same seed and options give deep-equal events and truth', () => {
    expect(generateDemo(BASE)).toEqual(base);
  });

  it('a different seed gives different events', () => {
    const other = generateDemo({ ...BASE, seed: 43 });
    expect(other.events).not.toEqual(base.events);
    expect(other.events.map(ms)).not.toEqual(base.events.map(ms));
  });

  it('runs started at different times share no ids (ingest would drop them as duplicates)', () => {
    const later = generateDemo({ ...BASE, now: NOW + HOUR });
    const ids = new Set(base.events.flatMap((e) => [e.event_id, e.user_id]));
    expect(later.events.some((e) => ids.has(e.event_id) || ids.has(e.user_id))).toBe(false);
  });

  it('rejects options outside the §3 bounds', () => {
    expect(() => generateDemo({ ...BASE, days: 31 })).toThrow(RangeError);
    expect(() => generateDemo({ ...BASE, seed: 1.5 })).toThrow(RangeError);
    expect(() => generateDemo({ ...BASE, runId: 'bad id' })).toThrow(RangeError);
    expect(() => generateDemo({ ...BASE, channels: { sms: { share: 1, acceptance: 1.2 } } })).toThrow(RangeError);
  });
});

describe('generateDemo: every event follows §3', () => {
  it('has no rule violations', () => {
    const bad = base.events.map((e) => [e.event_id, violations(e)] as const).filter(([, v]) => v.length);
    expect(bad).toEqual([]);
  });

  it('mixes RFC 3339 (UTC and offset) and epoch-ms timestamps, all denoting instants in order', () => {
    const kinds = new Set(base.events.map((e) => (typeof e.occurred_at === 'number' ? 'epoch' : e.occurred_at.endsWith('Z') ? 'utc' : 'offset')));
    expect([...kinds].sort()).toEqual(['epoch', 'offset', 'utc']);
    const times = base.events.map(ms);
    expect(times.every((t, i) => i === 0 || times[i - 1] <= t)).toBe(true);
  });

  it('stays within [now − days, now], hence within 30 days back and not in the future', () => {
    const times = base.events.map(ms);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW - 14 * DAY);
    expect(Math.max(...times)).toBeLessThanOrEqual(NOW);
    expect(base.truth.from).toBe(NOW - 14 * DAY);
    expect(base.truth.to).toBe(NOW);
  });

  it('has unique event ids, invite ids, order ids, reward ids and one sign-up per user', () => {
    const unique = (xs: unknown[]) => new Set(xs).size === xs.length;
    const of = (type: string, key: string) => base.events.filter((e) => e.type === type).map((e) => e.properties[key]);
    expect(unique(base.events.map((e) => e.event_id))).toBe(true);
    expect(unique(of('invite_sent', 'invite_id'))).toBe(true);
    expect(unique(of('purchase', 'order_id'))).toBe(true);
    expect(unique(of('reward_claimed', 'reward_id'))).toBe(true);
    expect(unique(base.events.filter((e) => e.type === 'signup').map((e) => e.user_id))).toBe(true);
  });

  it('holds for any seed and volume (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 200 }), fc.double({ min: 0.5, max: 5, noNaN: true }), (seed, seedUsers, days) => {
        const { events } = generateDemo({ seed, now: NOW, days, seedUsers });
        const times = events.map(ms);
        expect(events.flatMap(violations)).toEqual([]);
        expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
        expect(times.every((t, i) => t >= NOW - days * DAY && t <= NOW && (i === 0 || times[i - 1] <= t))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});

describe('generateDemo: the branching process', () => {
  const { invites, signups, referrerOf } = recount(base.events);

  it('grows referral chains of depth 3 and more', () => {
    const d = depths(referrerOf);
    expect(Math.max(...d.values())).toBeGreaterThanOrEqual(3);
    expect([...d.values()].filter((x) => x >= 3).length).toBeGreaterThan(5);
  });

  it('signs invitees up minutes to days after the invitation, honest ones never within 10 s', () => {
    const fraudUsers = new Set(base.truth.fraud.flatMap((c) => [...c.user_ids, ...c.related_user_ids]));
    const lags = [...signups.values()]
      .filter((s) => s.properties.invite_id && !fraudUsers.has(s.user_id))
      .map((s) => ms(s) - ms(invites.get(s.properties.invite_id as string)!));
    expect(Math.min(...lags)).toBeGreaterThanOrEqual(10 * SEC);
    expect(Math.max(...lags)).toBeGreaterThan(DAY);
    const sorted = [...lags].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(6 * HOUR);
  });

  it('gives every honest user an own device and purchases/refunds no device (server side)', () => {
    const fraudUsers = new Set(base.truth.fraud.flatMap((c) => [...c.user_ids, ...c.related_user_ids]));
    const honestDevices = [...signups.values()].filter((s) => !fraudUsers.has(s.user_id)).map((s) => s.device_id);
    expect(honestDevices.every((d) => typeof d === 'string')).toBe(true);
    expect(new Set(honestDevices).size).toBe(honestDevices.length);
    expect(base.events.filter((e) => e.type === 'purchase' || e.type === 'refund').every((e) => e.device_id === undefined)).toBe(true);
  });

  it('exposes each user to one deterministic variant, before their first invitation', () => {
    const exposures = base.events.filter((e) => e.type === 'experiment_exposure');
    expect(exposures.every((e) => e.properties.variant === assignVariant(e.properties.experiment_id as string, e.user_id))).toBe(true);
    const firstExposure = new Map<string, number>();
    for (const e of exposures) if (e.properties.experiment_id === 'invite_flow' && !firstExposure.has(e.user_id)) firstExposure.set(e.user_id, ms(e));
    const honestInvites = base.events.filter((e) => e.type === 'invite_sent' && e.properties.variant !== undefined);
    expect(honestInvites.length).toBeGreaterThan(0);
    expect(honestInvites.every((e) => firstExposure.get(e.user_id)! <= ms(e) && e.properties.variant === assignVariant('invite_flow', e.user_id))).toBe(true);
  });

  it('invite_flow variant b lifts acceptance by the configured factor; onboarding_copy has no effect', () => {
    const accepted = new Set([...signups.values()].map((s) => s.properties.invite_id));
    // Per invitation, over those old enough to have settled (4 days, the longest acceptance delay).
    const acceptance = (variant: string) => {
      const sent = [...invites.values()].filter((e) => e.properties.variant === variant && ms(e) < NOW - 4 * DAY);
      const hits = sent.filter((e) => accepted.has(e.properties.invite_id)).length;
      return { p: hits / sent.length, hits };
    };
    const b = acceptance('b');
    const control = acceptance('control');
    // Log risk ratio within 4 standard errors of the configured lift (default 1.5).
    const seLog = Math.sqrt((1 - b.p) / b.hits + (1 - control.p) / control.hits);
    expect(Math.abs(Math.log(b.p / control.p) - Math.log(1.5))).toBeLessThan(4 * seLog);
    expect(b.p / control.p).toBeGreaterThan(1.2);
    const rate = (exp: string, v: string) => base.truth.experiments[exp][v].invite_accepted_users / base.truth.experiments[exp][v].users;
    expect(rate('invite_flow', 'b')).toBeGreaterThan(rate('invite_flow', 'control'));
    // No effect: the difference stays within 4 standard errors of zero.
    const [x, y] = ['b', 'control'].map((v) => base.truth.experiments.onboarding_copy[v]);
    const pooled = (x.invite_accepted_users + y.invite_accepted_users) / (x.users + y.users);
    const seDiff = Math.sqrt(pooled * (1 - pooled) * (1 / x.users + 1 / y.users));
    expect(Math.abs(rate('onboarding_copy', 'b') - rate('onboarding_copy', 'control'))).toBeLessThan(4 * seDiff);
  });

  it('accepts invitations per channel at the configured rates', () => {
    const acceptance: Record<Channel, number> = { email: 0.04, sms: 0.08, whatsapp: 0.16, link: 0.24, other: 0.32 };
    const channels = Object.fromEntries(CHANNELS.map((c) => [c, { share: 1, acceptance: acceptance[c] }]));
    const { events } = generateDemo({ seed: 9, now: NOW, days: 14, seedUsers: 3000, fraudPerDay: 0, inviteFlowLift: 1, channels });
    const { invites, signups } = recount(events);
    const accepted = new Set([...signups.values()].map((s) => s.properties.invite_id));
    // Invitations sent more than 4 days before `now` have had the longest acceptance delay to land.
    const settled = [...invites.values()].filter((e) => ms(e) < NOW - 4 * DAY);
    const observed = Object.fromEntries(
      [...groupBy(settled, (e) => e.properties.channel as string)].map(([c, list]) => [c, list.filter((e) => accepted.has(e.properties.invite_id)).length / list.length]),
    );
    // Within 4 binomial standard errors of the configured rate.
    for (const c of CHANNELS) {
      const n = settled.filter((e) => e.properties.channel === c).length;
      expect(Math.abs(observed[c] - acceptance[c])).toBeLessThan(4 * Math.sqrt((acceptance[c] * (1 - acceptance[c])) / n));
    }
    expect(CHANNELS.map((c) => observed[c])).toEqual([...CHANNELS.map((c) => observed[c])].sort((a, b) => a - b));
  });

  it('generates 100k events well under two seconds', () => {
    const t0 = performance.now();
    const { events } = generateDemo({ seed: 5, now: NOW, days: 14, seedUsers: 8500 });
    const elapsed = performance.now() - t0;
    expect(events.length).toBeGreaterThan(100_000);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe('generateDemo: ground truth matches a recount of the events', () => {
  const { events, truth } = base;
  const { invites, signups } = recount(events);

  it('counts events per type', () => {
    expect(truth.events).toBe(events.length);
    for (const t of EVENT_TYPES) expect(truth.events_by_type[t]).toBe(events.filter((e) => e.type === t).length);
  });

  it('counts invitations sent and accepted per channel', () => {
    const acceptedIds = new Set([...signups.values()].map((s) => s.properties.invite_id).filter(Boolean));
    for (const c of CHANNELS) {
      const sent = [...invites.values()].filter((e) => e.properties.channel === c);
      expect(truth.channels[c].invites_sent).toBe(sent.length);
      expect(truth.channels[c].invites_accepted).toBe(sent.filter((e) => acceptedIds.has(e.properties.invite_id)).length);
    }
    expect(CHANNELS.every((c) => truth.channels[c].invites_accepted > 0)).toBe(true);
  });

  it('counts sign-ups by referral kind', () => {
    const all = [...signups.values()];
    expect(truth.signups).toEqual({
      organic: all.filter((s) => !s.properties.invite_id && !s.properties.referrer_id).length,
      invite: all.filter((s) => s.properties.invite_id).length,
      referral_code: all.filter((s) => !s.properties.invite_id && s.properties.referrer_id).length,
    });
    expect(truth.signups.invite).toBeGreaterThan(0);
    expect(truth.signups.referral_code).toBeGreaterThan(0);
  });

  it('sums revenue per currency, net of refunds, in both currencies', () => {
    const cents = (type: string, cur: string) =>
      events.filter((e) => e.type === type && e.properties.currency === cur).reduce((s, e) => s + Math.round((e.properties.amount as number) * 100), 0);
    expect(Object.keys(truth.revenue).sort()).toEqual(['EUR', 'USD']);
    for (const cur of ['EUR', 'USD']) {
      const r = truth.revenue[cur];
      expect(Math.round(r.gross * 100)).toBe(cents('purchase', cur));
      expect(Math.round(r.refunded * 100)).toBe(cents('refund', cur));
      expect(Math.round(r.net * 100)).toBe(cents('purchase', cur) - cents('refund', cur));
      expect(r.purchases).toBe(events.filter((e) => e.type === 'purchase' && e.properties.currency === cur).length);
      expect(r.refunds).toBeGreaterThan(0);
    }
  });

  it('counts exposed users and invite_accepted converters per experiment variant (§6)', () => {
    const exposures = events.filter((e) => e.type === 'experiment_exposure');
    const firstAcceptance = new Map<string, number>();
    for (const s of signups.values()) {
      const inv = s.properties.invite_id && invites.get(s.properties.invite_id as string);
      if (inv && !firstAcceptance.has(inv.user_id)) firstAcceptance.set(inv.user_id, ms(s));
    }
    for (const [exp, variants] of Object.entries(truth.experiments)) {
      for (const [variant, counts] of Object.entries(variants)) {
        const exposed = exposures.filter((e) => e.properties.experiment_id === exp && e.properties.variant === variant);
        expect(counts.users).toBe(new Set(exposed.map((e) => e.user_id)).size);
        expect(counts.invite_accepted_users).toBe(exposed.filter((e) => (firstAcceptance.get(e.user_id) ?? -Infinity) >= ms(e)).length);
        expect(counts.users).toBeGreaterThan(0);
      }
    }
  });

  it('lists only fraud cases whose events are all present, ended by now', () => {
    const ids = new Set(events.map((e) => e.event_id));
    expect(truth.fraud.length).toBeGreaterThan(0);
    expect(truth.fraud.every((c) => c.ended_at <= NOW && c.event_ids.every((id) => ids.has(id)))).toBe(true);
  });
});

describe('createDemoStream', () => {
  const opts: DemoOptions = { seed: 11, now: NOW, days: 3, seedUsers: 400 };

  it('gives the same events whatever the chunking of next() (property)', () => {
    const whole = createDemoStream(opts).next(NOW + 6 * HOUR);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: NOW - 3 * DAY, max: NOW + 6 * HOUR }), { maxLength: 12 }), (cuts) => {
        const s = createDemoStream(opts);
        const chunks = [...cuts.sort((a, b) => a - b), NOW + 6 * HOUR].map((until) => s.next(until));
        expect(chunks.flat()).toEqual(whole);
      }),
      { numRuns: 15 },
    );
  });

  it('yields live events second by second, in time order, without repeating ids', () => {
    const s = createDemoStream(opts);
    const history = s.next(NOW);
    const seen = new Set(history.map((e) => e.event_id));
    let last = NOW;
    let live = 0;
    const liveTypes = new Set<string>();
    // One simulated hour polled like the start command does, then a day in bigger steps.
    const polls = [...Array.from({ length: 3600 }, (_, i) => NOW + (i + 1) * SEC), ...Array.from({ length: 24 }, (_, i) => NOW + HOUR + (i + 1) * HOUR)];
    for (const until of polls) {
      for (const e of s.next(until)) {
        const t = ms(e);
        expect(t > NOW && t >= last && t <= until).toBe(true);
        expect(violations(e)).toEqual([]);
        expect(seen.has(e.event_id)).toBe(false);
        seen.add(e.event_id);
        liveTypes.add(e.type);
        last = t;
        live++;
      }
    }
    expect(live).toBeGreaterThan(100);
    expect(s.next(last)).toEqual([]);
    expect(liveTypes).toEqual(new Set(EVENT_TYPES));
  });

  it('keeps counting truth over everything yielded', () => {
    const s = createDemoStream(opts);
    const events = [...s.next(NOW), ...s.next(NOW + DAY)];
    const t = s.truth();
    expect(t.events).toBe(events.length);
    expect(t.to).toBe(NOW + DAY);
    expect(CHANNELS.reduce((n, c) => n + t.channels[c].invites_sent, 0)).toBe(events.filter((e) => e.type === 'invite_sent').length);
    const ids = new Set(events.map((e) => e.event_id));
    expect(t.fraud.every((c) => c.event_ids.every((id) => ids.has(id)))).toBe(true);
  });

  it('equals the batch up to now, apart from fraud cases the batch leaves out because they end after now', () => {
    const batch = generateDemo(opts);
    const streamed = createDemoStream(opts).next(NOW);
    const byId = new Map(streamed.map((e) => [e.event_id, e]));
    expect(batch.events.every((e) => JSON.stringify(byId.get(e.event_id)) === JSON.stringify(e))).toBe(true);
    const batchUsers = new Set(batch.events.map((e) => e.user_id));
    const batchIds = new Set(batch.events.map((e) => e.event_id));
    const extra = streamed.filter((e) => !batchIds.has(e.event_id));
    expect(extra.every((e) => !batchUsers.has(e.user_id))).toBe(true);

    const noFraud = { ...opts, fraudPerDay: 0 };
    expect(createDemoStream(noFraud).next(NOW)).toEqual(generateDemo(noFraud).events);
  });
});
