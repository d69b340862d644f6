import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ViralEvent } from '../../core/events/types.ts';
import type { RowBatch } from '../../core/processor.ts';
import { DAY, HOUR, MIN, SEC, T0, type EventInput, comparable, held, honestTraffic, makeEvent, pipeline, shuffledBatches } from './test-support.ts';

const ev = (event_id: string, type: ViralEvent['type'], user_id: string, offset: number, extra: Partial<EventInput> = {}) =>
  makeEvent({ event_id, type, user_id, occurred_at: T0 + offset, ...extra });
const sec = (offset: number) => Math.floor((T0 + offset) / 1000);
const iso = (offset: number) => new Date(T0 + offset).toISOString();

function runBatches(batches: ViralEvent[][], overrides = {}) {
  const p = pipeline(overrides);
  const out = batches.map((b) => p.apply(b));
  return { p, out };
}
/** 200 users sending 3 invitations each within an hour: a population with mean 3 and SD 0. */
function population(appId = 'a1'): ViralEvent[] {
  return Array.from({ length: 200 }, (_, u) =>
    [0, 1, 2].map((i) => makeEvent({ app_id: appId, event_id: `pop-${u}-${i}`, type: 'invite_sent', user_id: `pop-${u}`, occurred_at: T0 + 10 * MIN + i * MIN, invite_id: `pinv-${u}-${i}`, channel: 'email' })),
  ).flat();
}
/** n invitations by `user` evenly over `span` ms from `start`. */
function burst(user: string, n: number, span: number, start = 0): ViralEvent[] {
  return Array.from({ length: n }, (_, i) =>
    ev(`b-${user}-${String(i).padStart(3, '0')}`, 'invite_sent', user, start + Math.round((span * i) / Math.max(1, n - 1)), { invite_id: `binv-${user}-${i}`, channel: 'link' }),
  );
}

describe('self_referral', () => {
  it('fires on a first sign-up naming the user as referrer, as the exact row, and the graph rejects the edge', () => {
    const { p, out } = runBatches([[ev('s1', 'signup', 'u1', 0, { referrer_id: 'u1', device_hash: 'd1' })]]);
    expect(out[0]).toEqual([
      {
        table: 'fraud_signals',
        rows: [
          {
            app_id: 'a1',
            user_id: 'u1',
            signal: 'self_referral',
            event_id: 's1',
            detected_at: sec(0),
            evidence: JSON.stringify({ reason: 'own_referrer', via: 'referrer_id', invite_id: '', referrer_id: 'u1', first_signup: true }),
            retracted: 0,
            version: expect.any(Number),
          },
        ],
      },
    ]);
    expect(p.graph.node('a1', 'u1')?.status).toBe('self_referral');
  });

  it('fires on a later sign-up accepting the user’s own invitation, the first sign-up staying clean', () => {
    const { out } = runBatches([
      [ev('s1', 'signup', 'u1', 0), ev('i1', 'invite_sent', 'u1', HOUR, { invite_id: 'inv1', channel: 'email' })],
      [ev('s2', 'signup', 'u1', 2 * HOUR, { invite_id: 'inv1' })],
    ]);
    expect([...held(out).values()].map((r) => [r.event_id, r.evidence])).toEqual([
      ['s2', { reason: 'own_referrer', via: 'invite', invite_id: 'inv1', referrer_id: 'u1', first_signup: false }],
    ]);
  });

  it('fires on a referrer sharing the new user’s device, in either arrival order, and keeps the edge', () => {
    const events = [
      ev('sa', 'signup', 'alice', 0, { device_hash: 'dev-a' }),
      ev('ia', 'invite_sent', 'alice', HOUR, { invite_id: 'inv1', channel: 'sms', device_hash: 'dev-a' }),
      ev('sb', 'signup', 'bob', 2 * HOUR, { invite_id: 'inv1', device_hash: 'dev-a' }),
    ];
    const inOrder = runBatches([events]);
    const reversed = runBatches([[events[2]], [events[1]], [events[0]]]);
    const expected = [['bob', 'sb', sec(2 * HOUR), { reason: 'shared_device', via: 'invite', invite_id: 'inv1', referrer_id: 'alice', device_hash: 'dev-a' }]];
    for (const run of [inOrder, reversed]) {
      expect([...held(run.out).values()].map((r) => [r.user_id, r.event_id, r.detected_at, r.evidence])).toEqual(expected);
      expect(run.p.graph.node('a1', 'bob')?.status).toBe('accepted');
    }
  });

  it('ignores a shared IP: 40 users behind one NAT referring each other on their own devices', () => {
    const events = Array.from({ length: 40 }, (_, i) => [
      ev(`s${i}`, 'signup', `u${i}`, i * MIN, { device_hash: `d${i}`, ip_hash: 'office', referrer_id: i > 0 ? `u${i - 1}` : '' }),
    ]).flat();
    expect(held(runBatches([events]).out).size).toBe(0);
  });
});

describe('referral_cycle', () => {
  const ring = [
    ev('sa', 'signup', 'a', 0, { referrer_id: 'c' }),
    ev('sb', 'signup', 'b', 10 * MIN, { referrer_id: 'a' }),
    ev('sc', 'signup', 'c', 20 * MIN, { referrer_id: 'b' }),
  ];

  it('flags every member of a ring at their first sign-up, whatever the arrival order', () => {
    const expected = [
      ['a', 'sa', sec(0), { referrer_id: 'c', invite_id: '', cycle: ['a', 'c', 'b'] }],
      ['b', 'sb', sec(10 * MIN), { referrer_id: 'a', invite_id: '', cycle: ['b', 'a', 'c'] }],
      ['c', 'sc', sec(20 * MIN), { referrer_id: 'b', invite_id: '', cycle: ['c', 'b', 'a'] }],
    ];
    for (const batches of [[ring], [[ring[2]], [ring[0]], [ring[1]]], [[ring[1], ring[2]], [ring[0]]]]) {
      const { p, out } = runBatches(batches);
      const rows = [...held(out).values()].filter((r) => r.signal === 'referral_cycle').sort((x, y) => String(x.user_id).localeCompare(String(y.user_id)));
      expect(rows.map((r) => [r.user_id, r.event_id, r.detected_at, r.evidence])).toEqual(expected);
      // The graph rejects exactly one edge of the ring: the one of the latest first sign-up.
      expect(['a', 'b', 'c'].map((u) => p.graph.node('a1', u)?.status)).toEqual(['accepted', 'accepted', 'cycle']);
    }
  });

  it('retracts the ring when an earlier first sign-up of a member arrives late and breaks it', () => {
    const p = pipeline();
    const first = p.apply(ring);
    expect(p.fraud.isFlagged('a1', 'b')).toBe(true);
    const late = p.apply([ev('sc0', 'signup', 'c', -DAY)]); // c was a root all along
    expect(held([first, late]).size).toBe(0);
    expect(late[0].rows.filter((r) => r.signal === 'referral_cycle').map((r) => [r.user_id, r.retracted]).sort()).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    expect(p.fraud.flagChanges().map((c) => [c.user_id, c.removed])).toEqual(
      expect.arrayContaining([
        ['a', ['referral_cycle']],
        ['b', ['referral_cycle']],
        ['c', ['referral_cycle']],
      ]),
    );
  });
});

describe('invite_velocity', () => {
  it('fires at the 51st invitation within an hour, with exact evidence, and not at 50', () => {
    const { out } = runBatches([[...population(), ...burst('spam', 51, HOUR - 1), ...burst('busy', 50, HOUR - 1)]]);
    const rows = [...held(out).values()];
    expect(rows).toEqual([
      {
        app_id: 'a1',
        user_id: 'spam',
        signal: 'invite_velocity',
        event_id: 'b-spam-050',
        detected_at: sec(HOUR - 1),
        evidence: {
          invitations: 51,
          span_start: iso(0),
          span_end: iso(HOUR - 1),
          max_invites: 50,
          // 200 cells of 3, and one UTC-hour cell each for busy (50) and spam (51, all in 09:00–09:59).
          population: expect.objectContaining({ cells: 202 }),
        },
        retracted: 0,
      },
    ]);
    const pop = (rows[0].evidence as { population: { mean: number; sd: number } }).population;
    const cells = [...Array(200).fill(3), 50, 51];
    const mean = cells.reduce((a, b) => a + b, 0) / cells.length;
    expect(pop.mean).toBeCloseTo(mean, 9);
    expect(pop.sd).toBeCloseTo(Math.sqrt(cells.reduce((a, c) => a + (c - mean) ** 2, 0) / cells.length), 9);
  });

  it('stays silent on 51 invitations whose first and last are exactly one hour apart', () => {
    expect(held(runBatches([[...population(), ...burst('spam', 51, HOUR)]]).out).size).toBe(0);
  });

  it('decides again when the population changes: a lone burst is ordinary until others send', () => {
    const p = pipeline();
    const alone = p.apply(burst('spam', 60, 59 * MIN)); // one cell of 60: mean 60, SD 0, limit 60
    expect(held([alone]).size).toBe(0);
    const later = p.apply(population()); // no event of `spam`, yet its burst is now > mean + 3 SD
    expect([...held([alone, later]).values()].map((r) => [r.user_id, r.event_id])).toEqual([['spam', 'b-spam-050']]);
    expect(p.fraud.flagChanges()).toEqual([{ app_id: 'a1', user_id: 'spam', added: ['invite_velocity'], removed: [] }]);
  });

  it('moves to the earlier span when earlier invitations arrive late, retracting the first key', () => {
    const early = burst('spam', 51, 30 * MIN);
    const lateBurst = burst('spam', 80, 30 * MIN, 5 * HOUR).map((e) => ({ ...e, event_id: e.event_id.replace('b-', 'c-'), invite_id: e.invite_id + 'c' }));
    const p = pipeline();
    const batches = [p.apply([...population(), ...lateBurst]), p.apply(early)];
    expect([...held(batches).values()].map((r) => r.event_id)).toEqual(['b-spam-050']);
    expect(batches[1][0].rows.filter((r) => r.retracted === 1).map((r) => r.event_id)).toEqual(['c-spam-050']);
  });
});

describe('device_reuse', () => {
  const onDevice = (offsets: number[], device = 'dev-x') => offsets.map((o, i) => ev(`s${i}`, 'signup', `u${i}`, o, { device_hash: device }));

  it('flags all 3 users of one device within 24 h, with exact evidence', () => {
    const rows = [...held(runBatches([onDevice([0, 3 * HOUR, 24 * HOUR - SEC])]).out).values()];
    const evidence = { device_hash: 'dev-x', span_start: iso(0), span_end: iso(24 * HOUR - SEC), user_count: 3, users: ['u0', 'u1', 'u2'] };
    expect(rows.map((r) => [r.user_id, r.signal, r.event_id, r.detected_at, r.evidence])).toEqual([
      ['u0', 'device_reuse', 's0', sec(0), evidence],
      ['u1', 'device_reuse', 's1', sec(3 * HOUR), evidence],
      ['u2', 'device_reuse', 's2', sec(24 * HOUR - SEC), evidence],
    ]);
  });

  it.each([
    { offsets: [0, HOUR], description: '2 users' },
    { offsets: [0, HOUR, 24 * HOUR], description: '3 users, first and last exactly 24 h apart' },
  ])('stays silent on $description', ({ offsets }) => {
    expect(held(runBatches([onDevice(offsets)]).out).size).toBe(0);
  });

  it('counts a user once however often they sign up on the device', () => {
    const events = [...onDevice([0, HOUR]), ev('s0b', 'signup', 'u0', 2 * HOUR, { device_hash: 'dev-x' })];
    expect(held(runBatches([events]).out).size).toBe(0);
  });
});

describe('fast_conversion', () => {
  const invitation = ev('i1', 'invite_sent', 'alice', 0, { invite_id: 'inv1', channel: 'whatsapp' });
  it.each([
    { delay: 9_999, fires: true },
    { delay: 10_000, fires: false },
  ])('sign-up $delay ms after the invitation → fires: $fires', ({ delay, fires }) => {
    const rows = [...held(runBatches([[ev('sa', 'signup', 'alice', -DAY), invitation, ev('sb', 'signup', 'bob', delay, { invite_id: 'inv1' })]]).out).values()];
    expect(rows.map((r) => [r.user_id, r.signal, r.event_id, r.evidence])).toEqual(
      fires
        ? [['bob', 'fast_conversion', 'sb', { invite_id: 'inv1', inviter_id: 'alice', invite_event_id: 'i1', sent_at: iso(0), signup_at: iso(delay), delay_ms: delay, min_delay_ms: 10_000 }]]
        : [],
    );
  });

  it('fires once the invitation arrives after its acceptance', () => {
    const p = pipeline();
    const first = p.apply([ev('sb', 'signup', 'bob', 3 * SEC, { invite_id: 'inv1' })]);
    expect(held([first]).size).toBe(0);
    const second = p.apply([invitation]);
    expect([...held([first, second]).values()].map((r) => [r.user_id, r.event_id])).toEqual([['bob', 'sb']]);
  });

  it('fires for every user who accepted the invitation before it arrived', () => {
    const p = pipeline();
    const first = p.apply([ev('sb', 'signup', 'bob', 3 * SEC, { invite_id: 'inv1' }), ev('sc', 'signup', 'carol', 4 * SEC, { invite_id: 'inv1' })]);
    const second = p.apply([ev('sd', 'signup', 'dave', 5 * SEC, { invite_id: 'inv1' })]);
    expect(held([first, second]).size).toBe(0);
    const third = p.apply([invitation]);
    expect([...held([first, second, third]).values()].map((r) => [r.user_id, r.event_id]).sort()).toEqual([
      ['bob', 'sb'],
      ['carol', 'sc'],
      ['dave', 'sd'],
    ]);
  });
});

describe('reward_gaming', () => {
  const claims = (user: string, n: number, span: number) =>
    Array.from({ length: n }, (_, i) => ev(`c-${user}-${String(i).padStart(2, '0')}`, 'reward_claimed', user, Math.round((span * i) / (n - 1)), { reward_id: `r-${user}-${i}`, amount: 5, currency: 'USD' }));

  it('fires at the 21st claim within 24 h and not at 20', () => {
    const rows = [...held(runBatches([[...claims('g', 21, DAY - SEC), ...claims('h', 20, DAY - SEC)]]).out).values()];
    expect(rows.map((r) => [r.user_id, r.event_id, r.detected_at, r.evidence])).toEqual([
      ['g', 'c-g-20', sec(DAY - SEC), { reward_id: 'r-g-20', amount: 5, currency: 'USD', burst: { claims: 21, span_start: iso(0), span_end: iso(DAY - SEC), max_claims: 20 } }],
    ]);
  });

  it('flags the claims of a user flagged with another signal, also when the flag comes later', () => {
    const p = pipeline();
    const claim = ev('c1', 'reward_claimed', 'u0', 5 * HOUR, { reward_id: 'r1', amount: 10, currency: 'EUR' });
    const a = p.apply([claim, ev('s0', 'signup', 'u0', 0, { device_hash: 'dev-x' })]);
    expect(held([a]).size).toBe(0);
    const b = p.apply([ev('s1', 'signup', 'u1', HOUR, { device_hash: 'dev-x' }), ev('s2', 'signup', 'u2', 2 * HOUR, { device_hash: 'dev-x' })]);
    const gaming = [...held([a, b]).values()].filter((r) => r.signal === 'reward_gaming');
    expect(gaming.map((r) => [r.user_id, r.event_id, r.evidence])).toEqual([['u0', 'c1', { reward_id: 'r1', amount: 10, currency: 'EUR', flagged_signals: ['device_reuse'] }]]);
    expect(p.fraud.isFlagged('a1', 'u0', 'device_reuse')).toBe(true);
    expect(p.fraud.isFlagged('a1', 'u1', 'device_reuse')).toBe(false);
    expect(p.fraud.signalsOf('a1', 'u0')).toEqual(['device_reuse', 'reward_gaming']);
  });
});

/** A few cases of every pattern in one app, mixed into honest traffic. */
function fraudFixture(): ViralEvent[] {
  return [
    ev('f-self', 'signup', 'x-self', HOUR, { referrer_id: 'x-self' }),
    ev('f-ra', 'signup', 'x-ra', 2 * HOUR, { referrer_id: 'x-rc' }),
    ev('f-rb', 'signup', 'x-rb', 3 * HOUR, { referrer_id: 'x-ra' }),
    ev('f-rc', 'signup', 'x-rc', 4 * HOUR, { referrer_id: 'x-rb' }),
    ev('f-sa', 'signup', 'x-ref', 0, { device_hash: 'x-dev' }),
    ev('f-si', 'invite_sent', 'x-ref', 5 * HOUR, { invite_id: 'x-inv', channel: 'sms', device_hash: 'x-dev' }),
    ev('f-sb', 'signup', 'x-new', 5 * HOUR + 4 * SEC, { invite_id: 'x-inv', device_hash: 'x-dev' }),
    ...burst('x-spam', 90, 40 * MIN, 6 * HOUR),
    ...['x-f1', 'x-f2', 'x-f3', 'x-f4'].map((u, i) => ev(`f-d${i}`, 'signup', u, 7 * HOUR + i * HOUR, { device_hash: 'x-farm' })),
    ...Array.from({ length: 25 }, (_, i) => ev(`f-c${i}`, 'reward_claimed', 'x-gamer', 8 * HOUR + i * 10 * MIN, { reward_id: `x-r${i}`, amount: 5, currency: 'USD' })),
    ev('f-cf', 'reward_claimed', 'x-f2', 12 * HOUR, { reward_id: 'x-rf', amount: 5, currency: 'USD' }),
  ];
}

describe('replay and arrival order', () => {
  const events = [...honestTraffic(7, 600), ...fraudFixture()];
  const reference = comparable([pipeline().apply(events)]);

  it('finds every injected pattern and nothing else', () => {
    const byUser = new Map<string, string[]>();
    for (const r of reference.values()) byUser.set(r.user_id as string, [...(byUser.get(r.user_id as string) ?? []), r.signal as string].sort());
    expect(Object.fromEntries(byUser)).toEqual({
      'x-self': ['self_referral'],
      'x-ra': ['referral_cycle'],
      'x-rb': ['referral_cycle'],
      'x-rc': ['referral_cycle'],
      'x-new': ['fast_conversion', 'self_referral'],
      'x-spam': ['invite_velocity'],
      'x-f1': ['device_reuse'],
      'x-f2': ['device_reuse', 'reward_gaming'],
      'x-f3': ['device_reuse'],
      'x-f4': ['device_reuse'],
      'x-gamer': ['reward_gaming'],
    });
  });

  it('gives the same rows when the same events are applied twice', () => {
    const p = pipeline();
    const once = p.apply(events);
    const twice = p.apply(events);
    const strip = (b: RowBatch[]) => b.flatMap((x) => x.rows.map(({ version: _v, ...r }) => r));
    expect(strip(twice)).toEqual(expect.arrayContaining(strip(once)));
    expect(comparable([once, twice])).toEqual(reference);
  });

  it('gives the same held signals for any order, batch split and duplication', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 2, max: 40 }), (seed, nBatches) => {
        expect(comparable(runBatches(shuffledBatches(events, seed, nBatches)).out)).toEqual(reference);
      }),
      { numRuns: 15 },
    );
  });
});

describe('honest traffic', () => {
  it('raises no signal over 3,000 honest users that come close to every threshold', () => {
    const events = honestTraffic(20261204, 3000);
    const { p, out } = runBatches([events.slice(0, 9000), events.slice(9000)]);
    const signals = held(out);
    // The traffic does come near the thresholds (so silence means something).
    const perHour = new Map<string, number>();
    for (const e of events) if (e.type === 'invite_sent') perHour.set(`${e.user_id}|${Math.floor(e.occurred_at / HOUR)}`, (perHour.get(`${e.user_id}|${Math.floor(e.occurred_at / HOUR)}`) ?? 0) + 1);
    const devices = new Map<string, Set<string>>();
    for (const e of events) if (e.type === 'signup') devices.set(e.device_hash, (devices.get(e.device_hash) ?? new Set()).add(e.user_id));
    const signupsCount = events.filter((e) => e.type === 'signup').length;
    console.log(`honest traffic: ${events.length} events, ${signupsCount} sign-ups, busiest hour ${Math.max(...perHour.values())} invitations, ${[...devices.values()].filter((u) => u.size === 2).length} shared devices → ${signals.size} signals`);
    expect(signupsCount).toBe(3000);
    expect(Math.max(...perHour.values())).toBeGreaterThanOrEqual(30);
    expect([...devices.values()].some((u) => u.size === 2)).toBe(true);
    expect(signals.size).toBe(0);
    expect(p.fraud.flagChanges()).toEqual([]);
  });
});

describe('robustness to invalid data', () => {
  it('keeps apps apart: the same user and device ids in two apps never combine', () => {
    const events = ['a1', 'a2', 'a3'].flatMap((app_id, i) => [ev(`s${i}`, 'signup', `u${i}`, i * HOUR, { app_id, device_hash: 'same-dev' })]);
    expect(held(runBatches([events]).out).size).toBe(0);
  });

  it('ignores events no rule reads and sign-ups naming unknown invitations', () => {
    const events = [
      ev('p1', 'purchase', 'u1', 0, { order_id: 'o1', amount: 10, currency: 'USD' }),
      ev('x1', 'experiment_exposure', 'u1', 0, { experiment_id: 'e', variant: 'b' }),
      ev('s1', 'signup', 'u2', SEC, { invite_id: 'never-sent' }),
      ev('s2', 'signup', 'u3', SEC, { device_hash: '' }),
    ];
    expect(runBatches([events]).out).toEqual([[]]);
  });

  it('rejects a negative threshold', () => {
    expect(() => pipeline({ fastConversionMs: -1 })).toThrow(/fastConversionMs/);
  });
});
