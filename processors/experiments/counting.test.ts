// Counting (design §6): table-driven cases for each rule, then the property that any arrival order,
// duplicates, batch splits and a restart give the rows of a separate batch computation.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyEvent, type EventType, type ViralEvent } from '../../core/events/types.ts';
import { GOAL_EVENTS } from '../../core/experiments/definition.ts';
import { createExperimentsProcessor, VARIANT_STATS_TABLE } from './counting.ts';

let seq = 0;
function makeEvent(type: EventType, user: string, at: number, extra: Partial<ViralEvent> = {}): ViralEvent {
  return { ...emptyEvent(), app_id: 'app', event_id: `e${++seq}`, type, occurred_at: at, user_id: user, ...extra };
}
const expose = (user: string, at: number, variant: string, experiment = 'x', extra: Partial<ViralEvent> = {}) =>
  makeEvent('experiment_exposure', user, at, { experiment_id: experiment, variant, ...extra });
const purchase = (user: string, at: number, amount: number, order = `o${seq}`) => makeEvent('purchase', user, at, { order_id: order, amount, currency: 'USD' });

type Row = Record<string, unknown>;
const keyOf = (r: Row) => `${String(r.app_id)}|${String(r.experiment_id)}|${String(r.variant)}`;

/** The table after upserts: the latest version of every key (ReplacingMergeTree semantics). */
function upsert(table: Map<string, Row>, batches: ReturnType<ReturnType<typeof createExperimentsProcessor>['apply']>) {
  for (const b of batches) {
    expect(b.table).toBe(VARIANT_STATS_TABLE);
    for (const r of b.rows) {
      const old = table.get(keyOf(r));
      if (!old || Number(old.version) < Number(r.version)) table.set(keyOf(r), r);
    }
  }
}

function rowsFor(events: ViralEvent[]): Map<string, Row> {
  const table = new Map<string, Row>();
  upsert(table, createExperimentsProcessor().apply(events, 1_000));
  return table;
}

const stat = (table: Map<string, Row>, variant: string, experiment = 'x', app = 'app') => table.get(`${app}|${experiment}|${variant}`);

describe('experiment counting rules (design §6)', () => {
  it('counts a user in the variant of their first exposure; a late earlier exposure moves it', () => {
    const events = [expose('u1', 100, 'b'), makeEvent('signup', 'u1', 50), expose('u1', 40, 'b')];
    // First exposure is at 40 once the late event arrives, so the signup at 50 now converts.
    const only = rowsFor(events.slice(0, 2));
    expect(stat(only, 'b')).toMatchObject({ exposures: 1, conversions_signup: 0 });
    const all = rowsFor(events);
    expect(stat(all, 'b')).toMatchObject({ exposures: 1, conversions_signup: 1, multi_exposure_users: 0 });
  });

  it('excludes users exposed to two variants and counts them in multi_exposure_users', () => {
    const t = rowsFor([expose('u1', 10, 'control'), expose('u1', 20, 'b'), expose('u2', 10, 'b'), makeEvent('signup', 'u1', 30)]);
    expect(stat(t, 'control')).toMatchObject({ exposures: 0, conversions_signup: 0, multi_exposure_users: 1 });
    expect(stat(t, 'b')).toMatchObject({ exposures: 1, multi_exposure_users: 1 });
  });

  it('credits invite_accepted to the invitation sender at the signup time, whatever arrives first', () => {
    const events = [
      expose('alice', 100, 'b'),
      makeEvent('signup', 'bob', 150, { invite_id: 'inv1' }),
      makeEvent('invite_sent', 'alice', 90, { invite_id: 'inv1', channel: 'email' }),
    ];
    for (const order of [events, [...events].reverse()]) {
      const row = stat(rowsFor(order), 'b');
      // alice's invite_sent (90) is before her exposure (100): no invite_sent conversion.
      expect(row).toMatchObject({ exposures: 1, conversions_invite_accepted: 1, conversions_invite_sent: 0, conversions_signup: 0 });
    }
  });

  it('moves the acceptance credit when an earlier invite_sent names another sender', () => {
    const base = [expose('alice', 0, 'b'), expose('carol', 0, 'control'), makeEvent('invite_sent', 'alice', 50, { invite_id: 'inv1' }), makeEvent('signup', 'bob', 60, { invite_id: 'inv1' })];
    expect(stat(rowsFor(base), 'b')).toMatchObject({ conversions_invite_accepted: 1 });
    const moved = rowsFor([...base, makeEvent('invite_sent', 'carol', 40, { invite_id: 'inv1' })]);
    expect(stat(moved, 'b')).toMatchObject({ conversions_invite_accepted: 0 });
    expect(stat(moved, 'control')).toMatchObject({ conversions_invite_accepted: 1 });
  });

  it('sums revenue at or after the first exposure, net of refunds, never below zero per order', () => {
    const t = rowsFor([
      expose('u1', 100, 'b'),
      purchase('u1', 50, 999, 'early'), // before exposure: not counted, not a conversion
      purchase('u1', 150, 30, 'o1'),
      makeEvent('refund', 'u1', 160, { order_id: 'o1', amount: 10 }),
      purchase('u1', 170, 5, 'o2'),
      makeEvent('refund', 'u1', 180, { order_id: 'o2', amount: 8 }), // over-refund: order counts 0
      expose('u2', 100, 'b'),
      purchase('u2', 120, 4, 'o3'),
    ]);
    // u1: (30 − 10) + max(0, 5 − 8) = 20; u2: 4.
    expect(stat(t, 'b')).toMatchObject({ exposures: 2, conversions_purchase: 2, revenue_sum: 24, revenue_sum_sq: 20 * 20 + 4 * 4 });
  });

  it('keeps experiments and apps apart, and ignores events of other types', () => {
    const t = rowsFor([
      expose('u1', 10, 'b', 'x'),
      expose('u1', 10, 'control', 'y'),
      expose('u1', 10, 'b', 'x', { app_id: 'other' }),
      makeEvent('invite_opened', 'u1', 20, { invite_id: 'i' }),
      makeEvent('signup', 'u1', 20),
    ]);
    expect(stat(t, 'b', 'x')).toMatchObject({ exposures: 1, multi_exposure_users: 0, conversions_signup: 1 });
    expect(stat(t, 'control', 'y')).toMatchObject({ exposures: 1, conversions_signup: 1 });
    // The signup belongs to app `app`: the other app's exposed u1 did not convert.
    expect(stat(t, 'b', 'x', 'other')).toMatchObject({ exposures: 1, conversions_signup: 0 });
    expect(t.size).toBe(3);
  });

  it('re-emits the current rows of an experiment for a duplicate event (core/processor.ts)', () => {
    const p = createExperimentsProcessor();
    const e = expose('u1', 10, 'b');
    const first = p.apply([e, makeEvent('signup', 'u1', 20)], 1_000);
    const again = p.apply([e], 2_000);
    expect(again[0].rows.map((r) => ({ ...r, version: 0 }))).toEqual(first[0].rows.map((r) => ({ ...r, version: 0 })));
    expect(Number(again[0].rows[0].version)).toBeGreaterThan(Number(first[0].rows[0].version));
  });

  it('is deterministic: the same input twice gives equal rows', () => {
    const events = [expose('u1', 10, 'b'), expose('u2', 12, 'control'), purchase('u2', 20, 7.5), makeEvent('invite_sent', 'u1', 30, { invite_id: 'q' })];
    const strip = (m: Map<string, Row>) => [...m.values()].map((r) => ({ ...r, version: 0 }));
    expect(strip(rowsFor(events))).toEqual(strip(rowsFor(events)));
  });

  describe('robustness to invalid data', () => {
    it('ignores exposures without experiment_id or variant', () => {
      expect(createExperimentsProcessor().apply([expose('u1', 10, ''), expose('u1', 10, 'b', '')], 1)).toEqual([]);
    });
    it('handles experiment ids containing NUL and other odd characters', () => {
      const t = rowsFor([expose('u1', 10, 'b', 'x\u0000y\'z')]);
      expect(stat(t, 'b', 'x\u0000y\'z')).toMatchObject({ experiment_id: 'x\u0000y\'z', exposures: 1 });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: incremental = batch. The reference below recomputes everything from the deduplicated
// event set, written directly from the rules of design §6 (no shared code with counting.ts).

interface RefStats {
  exposures: number;
  conversions: number[];
  revenue_sum: number;
  revenue_sum_sq: number;
  multi_exposure_users: number;
}

function reference(events: readonly ViralEvent[]): Map<string, RefStats> {
  const unique = new Map<string, ViralEvent>();
  for (const e of events) if (!unique.has(`${e.app_id}|${e.event_id}`)) unique.set(`${e.app_id}|${e.event_id}`, e);
  const all = [...unique.values()];
  const out = new Map<string, RefStats>();
  for (const app of new Set(all.map((e) => e.app_id))) {
    const ev = all.filter((e) => e.app_id === app);
    const firstOf = (xs: ViralEvent[]) => [...xs].sort((a, b) => a.occurred_at - b.occurred_at || (a.event_id < b.event_id ? -1 : 1))[0];
    const senderOf = (invite: string) => firstOf(ev.filter((e) => e.type === 'invite_sent' && e.invite_id === invite))?.user_id;
    /** Times of the goal events crediting the user, per goal in GOAL_EVENTS order. */
    const goalTimes = (user: string): number[][] => [
      ev.filter((e) => e.type === 'signup' && e.user_id === user).map((e) => e.occurred_at),
      ev.filter((e) => e.type === 'invite_sent' && e.user_id === user).map((e) => e.occurred_at),
      ev.filter((e) => e.type === 'signup' && e.invite_id !== '' && senderOf(e.invite_id) === user).map((e) => e.occurred_at),
      ev.filter((e) => e.type === 'purchase' && e.user_id === user).map((e) => e.occurred_at),
    ];
    const revenue = (user: string, from: number) => {
      const orders = new Set(ev.filter((e) => e.type === 'purchase' && e.user_id === user && e.occurred_at >= from).map((e) => e.order_id));
      let total = 0;
      for (const o of orders) {
        const gross = ev.filter((e) => e.type === 'purchase' && e.user_id === user && e.order_id === o && e.occurred_at >= from).reduce((s, e) => s + e.amount, 0);
        const refunded = ev.filter((e) => e.type === 'refund' && e.user_id === user && e.order_id === o).reduce((s, e) => s + e.amount, 0);
        total += Math.max(0, gross - refunded);
      }
      return total;
    };
    const exposures = ev.filter((e) => e.type === 'experiment_exposure' && e.experiment_id !== '' && e.variant !== '');
    for (const x of new Set(exposures.map((e) => e.experiment_id))) {
      const ofX = exposures.filter((e) => e.experiment_id === x);
      const stats = new Map<string, RefStats>();
      for (const v of new Set(ofX.map((e) => e.variant))) stats.set(v, { exposures: 0, conversions: [0, 0, 0, 0], revenue_sum: 0, revenue_sum_sq: 0, multi_exposure_users: 0 });
      let multi = 0;
      for (const user of new Set(ofX.map((e) => e.user_id))) {
        const mine = ofX.filter((e) => e.user_id === user);
        if (new Set(mine.map((e) => e.variant)).size > 1) {
          multi++;
          continue;
        }
        const first = firstOf(mine);
        const s = stats.get(first.variant)!;
        s.exposures++;
        goalTimes(user).forEach((times, g) => (s.conversions[g] += times.some((t) => t >= first.occurred_at) ? 1 : 0));
        const r = revenue(user, first.occurred_at);
        s.revenue_sum += r;
        s.revenue_sum_sq += r * r;
      }
      for (const [v, s] of stats) out.set(`${app}|${x}|${v}`, { ...s, multi_exposure_users: multi });
    }
  }
  return out;
}

const small = (prefix: string, n: number) => fc.integer({ min: 0, max: n - 1 }).map((i) => `${prefix}${i}`);
const arbEvent = fc
  .record({
    type: fc.constantFrom<EventType>('experiment_exposure', 'experiment_exposure', 'signup', 'invite_sent', 'purchase', 'refund', 'invite_opened'),
    app: fc.constantFrom('a1', 'a2'),
    user: small('u', 5),
    at: fc.integer({ min: 0, max: 12 }),
    experiment: small('x', 2),
    variant: small('v', 3),
    invite: fc.option(small('i', 4), { nil: '' }),
    order: small('o', 3),
    cents: fc.integer({ min: 0, max: 10_000 }),
  })
  .map(({ type, app, user, at, experiment, variant, invite, order, cents }) => ({
    ...emptyEvent(),
    app_id: app,
    event_id: '',
    type,
    occurred_at: at,
    user_id: user,
    experiment_id: type === 'experiment_exposure' ? experiment : '',
    variant: type === 'experiment_exposure' ? variant : '',
    invite_id: type === 'signup' || type === 'invite_sent' || type === 'invite_opened' ? invite || (type === 'signup' ? '' : 'i0') : '',
    order_id: type === 'purchase' || type === 'refund' ? order : '',
    amount: type === 'purchase' || type === 'refund' ? cents / 100 : 0,
  }));

const scenario = fc
  .array(arbEvent, { minLength: 1, maxLength: 60 })
  .map((evs) => evs.map((e, i) => ({ ...e, event_id: `ev${String(i).padStart(3, '0')}` })))
  .chain((evs) =>
    fc.record({
      events: fc.constant(evs),
      // Arrival = a random permutation of the events plus duplicates (at-least-once delivery).
      arrival: fc.array(fc.integer({ min: 0, max: evs.length - 1 }), { maxLength: 20 }).chain((dups) =>
        fc.shuffledSubarray([...evs.map((_, i) => i), ...dups], { minLength: evs.length + dups.length, maxLength: evs.length + dups.length }),
      ),
      cuts: fc.array(fc.integer({ min: 0, max: evs.length + 20 }), { maxLength: 6 }),
      restartAt: fc.option(fc.integer({ min: 0, max: evs.length + 20 }), { nil: undefined }),
    }),
  );

describe('order independence and idempotency (property)', () => {
  it('any arrival order, duplicates, batch splits and a restart give the batch computation', () => {
    fc.assert(
      fc.property(scenario, ({ events, arrival, cuts, restartAt }) => {
        const stream = arrival.map((i) => events[i]);
        const bounds = [...new Set([0, ...cuts.filter((c) => c < stream.length), stream.length])].sort((a, b) => a - b);
        const batches = bounds.slice(1).map((end, i) => stream.slice(bounds[i], end));
        const table = new Map<string, Row>();
        let p = createExperimentsProcessor();
        let seen: ViralEvent[] = [];
        let t = 0;
        for (const batch of batches) {
          if (restartAt !== undefined && seen.length >= restartAt && seen.length > 0) {
            // Restart (design §4): a fresh processor restored from every event written so far.
            p = createExperimentsProcessor();
            p.apply(seen, ++t);
            restartAt = undefined;
          }
          upsert(table, p.apply(batch, ++t));
          seen = [...seen, ...batch];
        }
        const expected = reference(events);
        expect([...table.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [key, ref] of expected) {
          const row = table.get(key)!;
          expect({ key, exposures: row.exposures, multi: row.multi_exposure_users, conversions: GOAL_EVENTS.map((g) => row[`conversions_${g}`]) }).toEqual({
            key,
            exposures: ref.exposures,
            multi: ref.multi_exposure_users,
            conversions: ref.conversions,
          });
          expect(Number(row.revenue_sum)).toBeCloseTo(ref.revenue_sum, 6);
          expect(Number(row.revenue_sum_sq)).toBeCloseTo(ref.revenue_sum_sq, 4);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
