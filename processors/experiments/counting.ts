// Experiment counting (design §6 "Counting"): the sufficient statistics per (app, experiment,
// variant) that the statistics module needs, kept incrementally as events arrive in any order.
//
// Independent of the definitions: every experiment_id seen in an `experiment_exposure` is counted
// for every goal event, so a definition created or changed later needs no replay. Per user:
// - first exposure per experiment = earliest occurred_at (ties: smaller event_id) and its variant;
//   a user exposed to two variants of an experiment is excluded and counted in
//   `multi_exposure_users` (design §6);
// - the LATEST time of each goal event kind: a user converts for goal G iff some G event is at or
//   after the first exposure, and since a late event can only move the first exposure earlier and
//   the latest G time later, comparing the two is exact. Goal events: `signup`, `invite_sent` and
//   `purchase` credit the event's user; `invite_accepted` is a signup with an invite_id, credited
//   to the SENDER of that invitation at the signup's time (§6). The sender is the user of the
//   earliest `invite_sent` of the invite_id (ties: smaller event_id), as in the referral graph
//   (§5); this processor keeps its own invite_id → sender map so it needs no other processor.
//   Self-referrals and fraud are not filtered out here (fraud signals are reported apart);
// - purchases and refunds by event_id. Revenue = for each order, the purchases at or after the first
//   exposure minus that order's refunds (design §3: a refund reverses a purchase's revenue wherever
//   it was attributed), never below 0. Refunds affect revenue only, not purchase conversions.
//   Amounts are summed as posted, whatever the currency: an experiment's apps post one currency.
//
// Each event re-computes the contribution of the user(s) it concerns (old contribution out, new
// in), so the statistics equal a batch computation over the deduplicated event set for any
// arrival order, duplicates and restarts (counting.test.ts checks it with fast-check). Duplicates
// change nothing: every update is a min/max or keyed by event_id. Revenue sums are floating point
// and updated by subtraction and addition; the drift is ~1e-16 relative per update, and a variant's
// sums are reset to exactly 0 whenever its exposures return to 0.
import type { ViralEvent } from '../../core/events/types.ts';
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import { GOAL_EVENTS, type GoalEvent } from '../../core/experiments/definition.ts';
import { oneOrMapGet, oneOrMapSet, oneOrMapValues, type OneOrMap } from '../../core/one-or-map.ts';

export const VARIANT_STATS_TABLE = 'experiment_variant_stats';

const GOAL = { signup: 0, invite_sent: 1, invite_accepted: 2, purchase: 3 } as const satisfies Record<GoalEvent, number>;
const NONE = -Infinity;

/** Sufficient statistics of one variant (design §6, conventions §6). */
export interface VariantCounts {
  exposures: number;
  /** Converted users per goal event, in the order of GOAL_EVENTS. */
  conversions: [number, number, number, number];
  revenueSum: number;
  revenueSumSq: number;
}

export interface ExperimentCounts {
  variants: Map<string, VariantCounts>;
  multiExposureUsers: number;
}

/** An experiment's counts with what the processor needs to emit them. */
export interface TouchedExperiment extends ExperimentCounts {
  readonly appId: string;
  readonly experimentId: string;
  /** The last apply that listed it as touched (a per-batch stamp instead of a Set of keys). */
  touchedIn: number;
}

// What a user adds to an experiment's statistics (Exposure.counted): nothing yet, one
// multi_exposure_user (exposed to several variants: excluded), or one user of a variant.
const NOTHING = 0;
const MULTI = 1;
const IN_VARIANT = 2;
type Counted = typeof NOTHING | typeof MULTI | typeof IN_VARIANT;

interface Exposure {
  at: number;
  eventId: string;
  variant: string;
  /** Seen with more than one variant: excluded from the counts. */
  multi: boolean;
  /** The experiment and the counts of `variant`, resolved once at the first exposure. */
  readonly experiment: TouchedExperiment;
  readonly variantCounts: VariantCounts;
  // The user's contribution as currently added to the counts, so an update compares the new one
  // with it instead of computing the old one again (and allocating both) before every change.
  counted: Counted;
  /** Bit i set: converted for goal i (GOAL order); IN_VARIANT only. */
  conversions: number;
  /** IN_VARIANT only; computed for the first-exposure time and revenue revision below. */
  revenue: number;
  revenueAt: number;
  revenueRevision: number;
}

const experimentIdOf = (x: Exposure) => x.experiment.experimentId;

interface UserState {
  /** Latest time of each goal event crediting the user (GOAL order), -Infinity when none. */
  goals: [number, number, number, number];
  // Created on first use: most users never purchase, and many are never exposed.
  purchases?: Map<string, { order: string; at: number; amount: number }>;
  refunds?: Map<string, { order: string; amount: number }>;
  /** Bumped whenever purchases or refunds change: cached revenues are stale. */
  revenueRevision: number;
  /**
   * The only experiment exposure itself (most exposed users see one experiment), or experiment_id
   * → exposure from the second: a Map of one entry costs ~180 bytes of state per user.
   */
  exposures?: OneOrMap<Exposure>;
}

interface InvitationState {
  /** '' until the invitation's invite_sent arrives. */
  sender: string;
  sentAt: number;
  sentEventId: string;
  /** Latest signup naming this invite_id, -Infinity when none. */
  acceptedAt: number;
}

interface AppState {
  users: Map<string, UserState>;
  invitations: Map<string, InvitationState>;
  experiments: Map<string, TouchedExperiment>;
}

const earlier = (at: number, id: string, thanAt: number, thanId: string) => at < thanAt || (at === thanAt && id < thanId);

export class ExperimentCounter {
  private readonly apps = new Map<string, AppState>();
  // Batches are mostly of one app: the last app's state answers without a lookup in `apps`.
  private lastAppId: string | undefined;
  private lastApp: AppState | undefined;
  private applies = 0;
  private touched: TouchedExperiment[] = [];

  /**
   * Folds the events; returns every experiment an event touched, in first-touched order, whether
   * or not its statistics changed (core/processor.ts: re-emit for duplicates too).
   */
  apply(events: readonly ViralEvent[]): TouchedExperiment[] {
    this.applies++;
    this.touched = [];
    for (const e of events) this.fold(e);
    const touched = this.touched;
    this.touched = [];
    return touched;
  }

  experiment(appId: string, experimentId: string): ExperimentCounts | undefined {
    return this.apps.get(appId)?.experiments.get(experimentId);
  }

  private app(appId: string): AppState {
    if (appId === this.lastAppId) return this.lastApp!;
    let a = this.apps.get(appId);
    if (!a) this.apps.set(appId, (a = { users: new Map(), invitations: new Map(), experiments: new Map() }));
    this.lastAppId = appId;
    this.lastApp = a;
    return a;
  }

  private user(app: AppState, userId: string): UserState {
    let u = app.users.get(userId);
    if (!u) app.users.set(userId, (u = { goals: [NONE, NONE, NONE, NONE], revenueRevision: 0 }));
    return u;
  }

  // Each case changes one user's state, then `recount` moves that user's contributions (the
  // order of these steps is that of the design's definitions and keeps the floating-point sums
  // reproducible: every change is one subtraction of the old contribution and one addition).
  private fold(e: ViralEvent): void {
    switch (e.type) {
      case 'experiment_exposure': {
        if (e.experiment_id === '' || e.variant === '') return;
        const app = this.app(e.app_id);
        const u = this.user(app, e.user_id);
        let experiment = app.experiments.get(e.experiment_id);
        if (!experiment) {
          experiment = { appId: e.app_id, experimentId: e.experiment_id, variants: new Map(), multiExposureUsers: 0, touchedIn: 0 };
          app.experiments.set(e.experiment_id, experiment);
        }
        let variantCounts = experiment.variants.get(e.variant);
        if (!variantCounts) experiment.variants.set(e.variant, (variantCounts = emptyCounts()));
        const x = oneOrMapGet(u.exposures, e.experiment_id, experimentIdOf);
        if (!x) {
          const exposure: Exposure = {
            at: e.occurred_at,
            eventId: e.event_id,
            variant: e.variant,
            multi: false,
            experiment,
            variantCounts,
            counted: NOTHING,
            conversions: 0,
            revenue: 0,
            revenueAt: NONE,
            revenueRevision: -1,
          };
          u.exposures = oneOrMapSet(u.exposures, e.experiment_id, exposure, experimentIdOf);
        } else {
          // Until a second variant shows up every exposure has x.variant, so only the time moves.
          if (x.variant !== e.variant) x.multi = true;
          if (earlier(e.occurred_at, e.event_id, x.at, x.eventId)) {
            x.at = e.occurred_at;
            x.eventId = e.event_id;
          }
        }
        this.recount(u);
        return;
      }
      case 'signup': {
        const app = this.app(e.app_id);
        this.raise(this.user(app, e.user_id), GOAL.signup, e.occurred_at);
        if (e.invite_id !== '') this.accept(app, e);
        return;
      }
      case 'invite_sent': {
        const app = this.app(e.app_id);
        this.raise(this.user(app, e.user_id), GOAL.invite_sent, e.occurred_at);
        if (e.invite_id !== '') this.invitationSent(app, e);
        return;
      }
      case 'purchase': {
        const u = this.user(this.app(e.app_id), e.user_id);
        u.goals[GOAL.purchase] = Math.max(u.goals[GOAL.purchase], e.occurred_at);
        (u.purchases ??= new Map()).set(e.event_id, { order: e.order_id, at: e.occurred_at, amount: e.amount });
        u.revenueRevision++;
        this.recount(u);
        return;
      }
      case 'refund': {
        const u = this.user(this.app(e.app_id), e.user_id);
        (u.refunds ??= new Map()).set(e.event_id, { order: e.order_id, amount: e.amount });
        u.revenueRevision++;
        this.recount(u);
        return;
      }
      default:
        return;
    }
  }

  /** Moves the user's latest time of a goal event to `at` if later, and recounts them. */
  private raise(u: UserState, goal: number, at: number): void {
    u.goals[goal] = Math.max(u.goals[goal], at);
    this.recount(u);
  }

  /** A signup naming an invitation: the invitation's sender gets an `invite_accepted` at its time. */
  private accept(app: AppState, e: ViralEvent): void {
    let inv = app.invitations.get(e.invite_id);
    if (!inv) app.invitations.set(e.invite_id, (inv = { sender: '', sentAt: NONE, sentEventId: '', acceptedAt: NONE }));
    inv.acceptedAt = Math.max(inv.acceptedAt, e.occurred_at);
    if (inv.sender !== '') this.raise(this.user(app, inv.sender), GOAL.invite_accepted, inv.acceptedAt);
  }

  /** An invite_sent: the earliest one of an invite_id decides its sender (who gets the acceptances). */
  private invitationSent(app: AppState, e: ViralEvent): void {
    let inv = app.invitations.get(e.invite_id);
    if (inv && inv.sender !== '' && !earlier(e.occurred_at, e.event_id, inv.sentAt, inv.sentEventId)) return;
    const previousSender = inv ? inv.sender : '';
    if (!inv) app.invitations.set(e.invite_id, (inv = { sender: '', sentAt: NONE, sentEventId: '', acceptedAt: NONE }));
    inv.sender = e.user_id;
    inv.sentAt = e.occurred_at;
    inv.sentEventId = e.event_id;
    const acceptedAt = inv.acceptedAt;
    if (acceptedAt !== NONE) this.raise(this.user(app, e.user_id), GOAL.invite_accepted, acceptedAt);
    // Two users sending the same invite_id is a client bug, but order independence still needs the
    // old sender's acceptance time recomputed without this invitation: a scan of the app's
    // invitations, only on this rare path.
    if (previousSender !== '' && previousSender !== e.user_id && acceptedAt !== NONE) {
      const u = this.user(app, previousSender);
      let latest = NONE;
      for (const i of app.invitations.values()) if (i.sender === previousSender) latest = Math.max(latest, i.acceptedAt);
      u.goals[GOAL.invite_accepted] = latest;
      this.recount(u);
    }
  }

  /**
   * After a change to the user's state: moves the user's contribution in every experiment they
   * are exposed to from the value currently counted to the new one, and marks those experiments
   * touched.
   */
  private recount(u: UserState): void {
    if (!u.exposures) return;
    for (const x of oneOrMapValues(u.exposures)) {
      const experiment = x.experiment;
      if (experiment.touchedIn !== this.applies) {
        experiment.touchedIn = this.applies;
        this.touched.push(experiment);
      }
      if (x.multi) {
        // Once exposed to two variants, always excluded.
        if (x.counted === MULTI) continue;
        contribute(x, -1);
        x.counted = MULTI;
        contribute(x, 1);
        continue;
      }
      let conversions = 0;
      for (let i = 0; i < 4; i++) if (u.goals[i] >= x.at) conversions |= 1 << i;
      // Revenue changes only with the user's purchases and refunds or the first-exposure time: most
      // updates (sign-ups, invitations) reuse the counted value instead of summing the orders again.
      const fresh = x.counted === IN_VARIANT && x.revenueAt === x.at && x.revenueRevision === u.revenueRevision;
      const revenue = fresh ? x.revenue : revenueSince(u, x.at);
      if (x.counted === IN_VARIANT && x.conversions === conversions && x.revenue === revenue) {
        x.revenueAt = x.at;
        x.revenueRevision = u.revenueRevision;
        continue;
      }
      contribute(x, -1);
      x.counted = IN_VARIANT;
      x.conversions = conversions;
      x.revenue = revenue;
      x.revenueAt = x.at;
      x.revenueRevision = u.revenueRevision;
      contribute(x, 1);
    }
  }
}

function emptyCounts(): VariantCounts {
  return { exposures: 0, conversions: [0, 0, 0, 0], revenueSum: 0, revenueSumSq: 0 };
}

/** Σ over orders of max(0, purchases at or after `from` − refunds of the order). */
function revenueSince(u: UserState, from: number): number {
  if (!u.purchases) return 0;
  const byOrder = new Map<string, number>();
  for (const p of u.purchases.values()) if (p.at >= from) byOrder.set(p.order, (byOrder.get(p.order) ?? 0) + p.amount);
  if (byOrder.size === 0) return 0;
  if (u.refunds) {
    for (const r of u.refunds.values()) {
      const gross = byOrder.get(r.order);
      if (gross !== undefined) byOrder.set(r.order, gross - r.amount);
    }
  }
  let total = 0;
  for (const net of byOrder.values()) total += Math.max(0, net);
  return total;
}

/** Adds (+1) or removes (-1) the exposure's counted contribution to / from the experiment's counts. */
function contribute(x: Exposure, sign: 1 | -1): void {
  if (x.counted === NOTHING) return;
  if (x.counted === MULTI) {
    x.experiment.multiExposureUsers += sign;
    return;
  }
  const v = x.variantCounts;
  v.exposures += sign;
  for (let i = 0; i < 4; i++) v.conversions[i] += sign * ((x.conversions >> i) & 1);
  v.revenueSum += sign * x.revenue;
  v.revenueSumSq += sign * x.revenue * x.revenue;
  if (v.exposures === 0) {
    v.revenueSum = 0;
    v.revenueSumSq = 0;
  }
}

/** The `viral.experiment_variant_stats` row of one variant (sql/migrations/0401). */
export function variantStatsRow(appId: string, experimentId: string, variant: string, v: VariantCounts, multi: number, version: number): Record<string, unknown> {
  const row: Record<string, unknown> = { app_id: appId, experiment_id: experimentId, variant, exposures: v.exposures };
  GOAL_EVENTS.forEach((g, i) => (row[`conversions_${g}`] = v.conversions[i]));
  return { ...row, revenue_sum: v.revenueSum, revenue_sum_sq: Math.max(0, v.revenueSumSq), multi_exposure_users: multi, version };
}

/**
 * The experiments processor (core/processor.ts): folds every batch into an ExperimentCounter and
 * returns, for every experiment the batch touched, ALL its variant rows with one version, so a
 * write never leaves an experiment's rows (and its repeated multi_exposure_users) half updated.
 * State is rebuilt on start by the runtime feeding it `viral.events` (design §4 restart).
 */
export function createExperimentsProcessor(): Processor {
  const counter = new ExperimentCounter();
  return {
    name: 'experiments',
    apply(events: readonly ViralEvent[], now: number): RowBatch[] {
      const touched = counter.apply(events);
      if (touched.length === 0) return [];
      const version = rowVersion(now);
      const rows: Record<string, unknown>[] = [];
      for (const x of touched) {
        for (const [variant, v] of x.variants) rows.push(variantStatsRow(x.appId, x.experimentId, variant, v, x.multiExposureUsers, version));
      }
      return [{ table: VARIANT_STATS_TABLE, rows }];
    },
  };
}
