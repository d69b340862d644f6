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

interface Exposure {
  at: number;
  eventId: string;
  variant: string;
  /** Seen with more than one variant: excluded from the counts. */
  multi: boolean;
}

interface UserState {
  /** Latest time of each goal event crediting the user (GOAL order), -Infinity when none. */
  goals: [number, number, number, number];
  // Created on first use: most users never purchase, and many are never exposed.
  purchases?: Map<string, { order: string; at: number; amount: number }>;
  refunds?: Map<string, { order: string; amount: number }>;
  exposures?: Map<string, Exposure>;
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
  experiments: Map<string, ExperimentCounts>;
}

/** A user's share of an experiment's statistics: none, excluded (multi), or counted in a variant. */
type Contribution = null | 'multi' | { variant: string; conversions: [number, number, number, number]; revenue: number };

const earlier = (at: number, id: string, than: { at: number; eventId: string }) => at < than.at || (at === than.at && id < than.eventId);

export class ExperimentCounter {
  private readonly apps = new Map<string, AppState>();

  /**
   * Folds the events; returns every (app, experiment) an event touched (`app \0 experiment`),
   * whether or not its statistics changed (core/processor.ts: re-emit for duplicates too).
   */
  apply(events: readonly ViralEvent[]): Set<string> {
    const touched = new Set<string>();
    for (const e of events) this.fold(e, touched);
    return touched;
  }

  experiment(appId: string, experimentId: string): ExperimentCounts | undefined {
    return this.apps.get(appId)?.experiments.get(experimentId);
  }

  private app(appId: string): AppState {
    let a = this.apps.get(appId);
    if (!a) this.apps.set(appId, (a = { users: new Map(), invitations: new Map(), experiments: new Map() }));
    return a;
  }

  private fold(e: ViralEvent, touched: Set<string>): void {
    const app = this.app(e.app_id);
    switch (e.type) {
      case 'experiment_exposure':
        if (e.experiment_id === '' || e.variant === '') return;
        this.update(app, e.app_id, e.user_id, touched, (u) => {
          const counts = app.experiments.get(e.experiment_id) ?? { variants: new Map(), multiExposureUsers: 0 };
          app.experiments.set(e.experiment_id, counts);
          if (!counts.variants.has(e.variant)) counts.variants.set(e.variant, emptyCounts());
          u.exposures ??= new Map();
          const x = u.exposures.get(e.experiment_id);
          if (!x) u.exposures.set(e.experiment_id, { at: e.occurred_at, eventId: e.event_id, variant: e.variant, multi: false });
          else {
            // Until a second variant shows up every exposure has x.variant, so only the time moves.
            if (x.variant !== e.variant) x.multi = true;
            if (earlier(e.occurred_at, e.event_id, x)) Object.assign(x, { at: e.occurred_at, eventId: e.event_id });
          }
        });
        return;
      case 'signup':
        this.update(app, e.app_id, e.user_id, touched, (u) => raise(u, GOAL.signup, e.occurred_at));
        if (e.invite_id !== '') this.accept(app, e, touched);
        return;
      case 'invite_sent':
        this.update(app, e.app_id, e.user_id, touched, (u) => raise(u, GOAL.invite_sent, e.occurred_at));
        if (e.invite_id !== '') this.invitationSent(app, e, touched);
        return;
      case 'purchase':
        this.update(app, e.app_id, e.user_id, touched, (u) => {
          raise(u, GOAL.purchase, e.occurred_at);
          (u.purchases ??= new Map()).set(e.event_id, { order: e.order_id, at: e.occurred_at, amount: e.amount });
        });
        return;
      case 'refund':
        this.update(app, e.app_id, e.user_id, touched, (u) => void (u.refunds ??= new Map()).set(e.event_id, { order: e.order_id, amount: e.amount }));
        return;
      default:
        return;
    }
  }

  /** A signup naming an invitation: the invitation's sender gets an `invite_accepted` at its time. */
  private accept(app: AppState, e: ViralEvent, touched: Set<string>): void {
    let inv = app.invitations.get(e.invite_id);
    if (!inv) app.invitations.set(e.invite_id, (inv = { sender: '', sentAt: NONE, sentEventId: '', acceptedAt: NONE }));
    inv.acceptedAt = Math.max(inv.acceptedAt, e.occurred_at);
    const invitation = inv;
    if (invitation.sender !== '') this.update(app, e.app_id, invitation.sender, touched, (u) => raise(u, GOAL.invite_accepted, invitation.acceptedAt));
  }

  /** An invite_sent: the earliest one of an invite_id decides its sender (who gets the acceptances). */
  private invitationSent(app: AppState, e: ViralEvent, touched: Set<string>): void {
    const inv = app.invitations.get(e.invite_id);
    if (inv && inv.sender !== '' && !earlier(e.occurred_at, e.event_id, { at: inv.sentAt, eventId: inv.sentEventId })) return;
    const previousSender = inv?.sender ?? '';
    const next: InvitationState = { sender: e.user_id, sentAt: e.occurred_at, sentEventId: e.event_id, acceptedAt: inv?.acceptedAt ?? NONE };
    app.invitations.set(e.invite_id, next);
    if (next.acceptedAt !== NONE) this.update(app, e.app_id, e.user_id, touched, (u) => raise(u, GOAL.invite_accepted, next.acceptedAt));
    // Two users sending the same invite_id is a client bug, but order independence still needs the
    // old sender's acceptance time recomputed without this invitation: a scan of the app's
    // invitations, only on this rare path.
    if (previousSender !== '' && previousSender !== e.user_id && next.acceptedAt !== NONE) {
      this.update(app, e.app_id, previousSender, touched, (u) => {
        let latest = NONE;
        for (const i of app.invitations.values()) if (i.sender === previousSender) latest = Math.max(latest, i.acceptedAt);
        u.goals[GOAL.invite_accepted] = latest;
      });
    }
  }

  /**
   * Applies `mutate` to the user's state and moves the user's contributions in every experiment
   * they are exposed to from the old values to the new ones; marks those experiments touched.
   */
  private update(app: AppState, appId: string, userId: string, touched: Set<string>, mutate: (u: UserState) => void): void {
    let u = app.users.get(userId);
    if (!u) app.users.set(userId, (u = { goals: [NONE, NONE, NONE, NONE] }));
    const before = new Map<string, Contribution>();
    for (const [experimentId, x] of u.exposures ?? []) before.set(experimentId, contribution(u, x));
    mutate(u);
    for (const [experimentId, x] of u.exposures ?? []) {
      touched.add(appId + '\u0000' + experimentId);
      const old = before.get(experimentId) ?? null;
      const now = contribution(u, x);
      if (sameContribution(old, now)) continue;
      const counts = app.experiments.get(experimentId)!;
      addContribution(counts, old, -1);
      addContribution(counts, now, 1);
    }
  }
}

function emptyCounts(): VariantCounts {
  return { exposures: 0, conversions: [0, 0, 0, 0], revenueSum: 0, revenueSumSq: 0 };
}

function raise(u: UserState, goal: number, at: number): void {
  u.goals[goal] = Math.max(u.goals[goal], at);
}

function contribution(u: UserState, x: Exposure): Contribution {
  if (x.multi) return 'multi';
  const conversions = u.goals.map((t) => (t >= x.at ? 1 : 0)) as [number, number, number, number];
  return { variant: x.variant, conversions, revenue: revenueSince(u, x.at) };
}

/** Σ over orders of max(0, purchases at or after `from` − refunds of the order). */
function revenueSince(u: UserState, from: number): number {
  if (!u.purchases) return 0;
  const byOrder = new Map<string, number>();
  for (const p of u.purchases.values()) if (p.at >= from) byOrder.set(p.order, (byOrder.get(p.order) ?? 0) + p.amount);
  if (byOrder.size === 0) return 0;
  for (const r of u.refunds?.values() ?? []) {
    const gross = byOrder.get(r.order);
    if (gross !== undefined) byOrder.set(r.order, gross - r.amount);
  }
  let total = 0;
  for (const net of byOrder.values()) total += Math.max(0, net);
  return total;
}

function sameContribution(a: Contribution, b: Contribution): boolean {
  if (a === null || b === null || a === 'multi' || b === 'multi') return a === b;
  return a.variant === b.variant && a.revenue === b.revenue && a.conversions.every((c, i) => c === b.conversions[i]);
}

function addContribution(counts: ExperimentCounts, c: Contribution, sign: 1 | -1): void {
  if (c === null) return;
  if (c === 'multi') {
    counts.multiExposureUsers += sign;
    return;
  }
  const v = counts.variants.get(c.variant)!;
  v.exposures += sign;
  for (let i = 0; i < 4; i++) v.conversions[i] += sign * c.conversions[i];
  v.revenueSum += sign * c.revenue;
  v.revenueSumSq += sign * c.revenue * c.revenue;
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
      if (touched.size === 0) return [];
      const version = rowVersion(now);
      const rows: Record<string, unknown>[] = [];
      for (const key of touched) {
        // App ids cannot hold NUL (core/config.ts APP_ID); experiment ids from events might.
        const cut = key.indexOf('\u0000');
        const appId = key.slice(0, cut);
        const experimentId = key.slice(cut + 1);
        const counts = counter.experiment(appId, experimentId)!;
        for (const [variant, v] of counts.variants) rows.push(variantStatsRow(appId, experimentId, variant, v, counts.multiExposureUsers, version));
      }
      return [{ table: VARIANT_STATS_TABLE, rows }];
    },
  };
}
