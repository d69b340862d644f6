// Test support shared by the k-factor and cohort tests: an event builder, a fast-check generator of
// messy event sets (design §4: late, duplicate, out-of-order), and a model of the runtime
// (core/processor.ts) that feeds a processor pipeline in random batches with crash-restarts.
import fc from 'fast-check';
import { emptyEvent, CHANNELS, type ViralEvent } from '../../core/events/types.ts';
import type { RowBatch } from '../../core/processor.ts';
import { DAY_MS, HOUR_MS } from '../../core/time.ts';
import { ReferralGraph } from '../referral-graph/graph.ts';
import { CohortProcessor, COHORT_TABLE } from '../cohorts/compute.ts';
import { KFactorProcessor, KFACTOR_TABLE, type KFactorOptions } from './compute.ts';

/** A normalized event with builder defaults; `at` is an ISO time or epoch ms. */
export function makeEvent(
  fields: Partial<ViralEvent> & Pick<ViralEvent, 'event_id' | 'type' | 'user_id'> & { at: string | number },
): ViralEvent {
  const { at, ...rest } = fields;
  const occurred_at = typeof at === 'number' ? at : Date.parse(at);
  return { ...emptyEvent(), app_id: 'app', occurred_at, received_at: occurred_at, ...rest };
}

// Sat 2024-12-28: the generated month spans the ISO week that crosses into 2025.
const BASE = Date.UTC(2024, 11, 28);

type Spec =
  | { kind: 'invite'; app: number; user: number; invite: number; channel: number; slot: number; nudge: number }
  | { kind: 'signup'; app: number; user: number; invite: number; referrer: number; time: SignupTime }
  | { kind: 'noise'; app: number; user: number; invite: number; slot: number }
  | { kind: 'ring'; app: number; users: number[]; slots: number[] };
// A sign-up time either free, or relative to the earliest sending of its invitation: exactly at
// the 30-day attribution boundary, 1 ms past it, before the invitation (client clock error), soon after.
type SignupTime = { slot: number; nudge: number } | { relative: 'at30d' | 'past30d' | 'before' | 'soon' };

const slot = fc.integer({ min: 0, max: 45 * 8 }); // 3-hour steps over 45 days: hits hour/day/week edges
const nudge = fc.constantFrom(0, 0, 1, -1);
const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('invite' as const), app: fc.nat(1), user: fc.nat(5), invite: fc.nat(5), channel: fc.nat(CHANNELS.length - 1), slot, nudge }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('signup' as const),
      app: fc.nat(1),
      user: fc.nat(6),
      invite: fc.integer({ min: -2, max: 5 }), // < 0: no invite_id
      referrer: fc.integer({ min: -3, max: 6 }), // < 0: no referrer_id
      time: fc.oneof(
        fc.record({ slot, nudge }),
        fc.record({ relative: fc.constantFrom('at30d' as const, 'past30d' as const, 'before' as const, 'soon' as const) }),
      ),
    }),
  },
  // Users naming each other by referral code: a referral cycle once all have signed up.
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ring' as const),
      app: fc.nat(1),
      users: fc.uniqueArray(fc.nat(6), { minLength: 2, maxLength: 3 }),
      slots: fc.array(slot, { minLength: 3, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('noise' as const), app: fc.nat(1), user: fc.nat(6), invite: fc.nat(5), slot }) },
);

/**
 * Random event sets over two apps sharing user and invite ids: invitations re-sent under the same
 * invite_id (earliest wins), sign-ups with or without invite_id / referrer_id, self-referrals,
 * referral rings, acceptances at and past the 30-day boundary and before the invitation.
 */
export const eventSetArb: fc.Arbitrary<ViralEvent[]> = fc.array(specArb, { minLength: 1, maxLength: 50 }).map((specs) => {
  const slotTime = (s: number, n: number): number => BASE + s * 3 * HOUR_MS + n;
  const firstSent = new Map<string, number>();
  for (const s of specs) {
    if (s.kind !== 'invite') continue;
    const key = s.app + '/' + s.invite;
    const t = slotTime(s.slot, s.nudge);
    firstSent.set(key, Math.min(t, firstSent.get(key) ?? t));
  }
  return specs.flatMap((s, i): ViralEvent | ViralEvent[] => {
    if (s.kind === 'ring') {
      return s.users.map((u, j) =>
        makeEvent({ app_id: 'app' + s.app, event_id: `e${i}.${j}`, user_id: 'u' + u, type: 'signup', at: slotTime(s.slots[j], 0), referrer_id: 'u' + s.users[(j + 1) % s.users.length] }),
      );
    }
    const base = { app_id: 'app' + s.app, event_id: 'e' + i, user_id: 'u' + s.user };
    if (s.kind === 'invite') {
      return makeEvent({ ...base, type: 'invite_sent', at: slotTime(s.slot, s.nudge), invite_id: 'i' + s.invite, channel: CHANNELS[s.channel] });
    }
    if (s.kind === 'noise') return makeEvent({ ...base, type: 'invite_opened', at: slotTime(s.slot, 0), invite_id: 'i' + s.invite });
    const sent = s.invite >= 0 ? firstSent.get(s.app + '/' + s.invite) : undefined;
    let at: number;
    if ('slot' in s.time) at = slotTime(s.time.slot, s.time.nudge);
    else {
      const from = sent ?? BASE + 20 * DAY_MS;
      at = { at30d: from + 30 * DAY_MS, past30d: from + 30 * DAY_MS + 1, before: from - HOUR_MS, soon: from + 10 * 60_000 }[s.time.relative];
    }
    return makeEvent({
      ...base,
      type: 'signup',
      at,
      invite_id: s.invite >= 0 ? 'i' + s.invite : '',
      referrer_id: s.referrer >= 0 ? 'u' + s.referrer : '',
    });
  });
});

/** How the runtime receives an event set: an arrival order with duplicates, cut into batches. */
export interface FeedPlan {
  batches: ViralEvent[][];
  /** restart[i]: the process crashes after batch i, having sunk only part of its rows if `partial`. */
  restarts: { after: number; partial: boolean; keep: number[] }[];
}

/** Random arrival order, random duplicates, random batch cuts and random crash-restarts. */
export function feedPlanArb(events: ViralEvent[]): fc.Arbitrary<FeedPlan> {
  return fc
    .record({
      dupes: fc.array(fc.nat(events.length - 1), { maxLength: 15 }),
      keys: fc.array(fc.double({ noNaN: true }), { minLength: events.length + 15, maxLength: events.length + 15 }),
      cuts: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 80, maxLength: 80 }),
      restarts: fc.array(fc.record({ after: fc.nat(10), partial: fc.boolean(), keep: fc.array(fc.nat(40), { maxLength: 20 }) }), { maxLength: 3 }),
    })
    .map(({ dupes, keys, cuts, restarts }) => {
      const arrivals = [...events, ...dupes.map((i) => events[i])]
        .map((e, i) => ({ e, k: keys[i] }))
        .sort((a, b) => a.k - b.k)
        .map(({ e }) => e);
      const batches: ViralEvent[][] = [];
      for (let i = 0, c = 0; i < arrivals.length; c++) {
        batches.push(arrivals.slice(i, i + cuts[c]));
        i += cuts[c];
      }
      return { batches, restarts };
    });
}

/** A processor pipeline as the runtime drives it: graph first, then the window processors. */
export interface Pipeline {
  apply(events: readonly ViralEvent[], now: number): RowBatch[];
}

/** A fresh graph with the k-factor and cohort processors reading it (what the runtime builds). */
export function createPipeline(options: KFactorOptions = {}): Pipeline {
  const graph = new ReferralGraph();
  const kfactor = new KFactorProcessor(graph, options);
  const cohorts = new CohortProcessor(graph);
  return {
    apply(events, now) {
      graph.apply(events);
      return [...kfactor.apply(events, now), ...cohorts.apply(events, now)];
    },
  };
}

/** The ReplacingMergeTree key (ORDER BY) of each table, as a string. */
export const keyOf: Record<string, (row: Record<string, unknown>) => string> = {
  [KFACTOR_TABLE]: (r) => [r.app_id, r.granularity, r.window_start, r.channel].join('|'),
  [COHORT_TABLE]: (r) => [r.app_id, r.granularity, r.window_start].join('|'),
};

/**
 * Models the runtime (core/processor.ts) over a ReplacingMergeTree sink: each batch goes to the
 * raw log, through the pipeline, and its rows are upserted (a later row of a key replaces the
 * earlier one, as `version` grows). On a crash-restart a fresh pipeline is restored from the log
 * (its rows are not sunk: only what the replayed batch re-emits completes a partial sink), then the
 * crashed batch is replayed. Returns the final row of every key, per table, without `version`.
 */
export function runStreaming(plan: FeedPlan, create: () => Pipeline = createPipeline) {
  const tables = new Map<string, Map<string, Record<string, unknown>>>();
  const sink = (batches: RowBatch[], keep?: (i: number) => boolean): void => {
    for (const { table, rows } of batches) {
      let t = tables.get(table);
      if (!t) tables.set(table, (t = new Map()));
      rows.forEach((row, i) => {
        if (keep && !keep(i)) return;
        const { version: _version, ...rest } = row;
        t.set(keyOf[table](row), rest);
      });
    }
  };
  const log: ViralEvent[] = [];
  let pipeline = create();
  let now = Date.UTC(2025, 2, 1);
  plan.batches.forEach((batch, b) => {
    log.push(...batch);
    const rows = pipeline.apply(batch, (now += 1000));
    const crash = plan.restarts.find((r) => r.after === b);
    if (!crash) return sink(rows);
    sink(rows, crash.partial ? (i) => crash.keep.includes(i) : undefined);
    pipeline = create();
    pipeline.apply(log, (now += 1000));
    sink(pipeline.apply(batch, (now += 1000)));
  });
  return tables;
}
