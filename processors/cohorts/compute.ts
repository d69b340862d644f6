// Cohort viral coefficient per app × granularity × sign-up window (design §5), kept incrementally.
//
// - A user's cohort is the window of their FIRST sign-up (graph node signup_at); a later, earlier
//   -stamped sign-up moves them (and the referrals credited to them) to the earlier window.
// - referred_signups(W) = accepted edges (status `accepted`: by invitation or by referral code)
//   whose referrer's first sign-up is in W, whenever the referred user signed up ("at any time so
//   far"). Pending edges (referrer not signed up yet, invitation unknown) and rejected ones
//   (self_referral, cycle) do not count until / unless the graph accepts them.
// - cohort_k = referred_signups / cohort_size, 0 for an empty cohort.
import type { ViralEvent } from '../../core/events/types.ts';
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import { GRANULARITIES, windowStart, type Granularity } from '../../core/time.ts';
import { AppMap, GraphWatch, type GraphSource } from '../k-factor/graph-watch.ts';

export const COHORT_TABLE = 'cohort_windows';

/** One row of `viral.cohort_windows` (sql/migrations/0301_create_cohort_windows.sql). */
export type CohortRow = {
  app_id: string;
  granularity: Granularity;
  /** Unix seconds (ClickHouse DateTime). */
  window_start: number;
  cohort_size: number;
  referred_signups: number;
  cohort_k: number;
  version: number;
};

interface Cell {
  app_id: string;
  granularity: Granularity;
  window_start: number;
  size: number;
  referred: number;
}

function cellKey(appId: string, granularity: Granularity, start: number): string {
  return appId + '\u0000' + granularity + '\u0000' + start;
}

/**
 * The cohort-K processor. Reads the shared referral graph, which the runtime has already applied
 * to the same batch. Returns the current `cohort_windows` row of every cohort an event of the
 * batch touches (the signing-up user's and their referrer's, also for duplicate events) and of
 * every cohort whose counts changed; a cohort left empty is re-emitted with zeros.
 */
export class CohortProcessor implements Processor {
  readonly name = 'cohorts';
  private readonly watch: GraphWatch;
  /** User → the cells (hour, day, week) of their counted first sign-up. */
  private readonly cohortOf = new AppMap<Cell[]>();
  /** Referrer → accepted edges from them. Invariant: a cell's `referred` is the sum of this over
   * the users counted in the cell. */
  private readonly acceptedFrom = new AppMap<number>();
  private readonly cells = new Map<string, Cell>();

  constructor(graph: GraphSource) {
    this.watch = new GraphWatch(graph);
  }

  apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    const out = new Set<Cell>();
    const { changed, touched } = this.watch.observe(events);
    for (const { app_id: appId, user_id: userId, before, after } of changed) {
      const cohortOf = this.cohortOf.of(appId);
      // Move the user's membership, with the referrals credited to them, between cohorts.
      const credited = this.acceptedFrom.get(appId, userId) ?? 0;
      for (const cell of cohortOf.get(userId) ?? []) {
        cell.size -= 1;
        cell.referred -= credited;
        out.add(cell);
      }
      if (after) {
        const cells = this.cellsOf(appId, after.signup_at);
        cohortOf.set(userId, cells);
        for (const cell of cells) {
          cell.size += 1;
          cell.referred += credited;
          out.add(cell);
        }
      } else cohortOf.delete(userId);
      if (before?.status === 'accepted') this.credit(appId, before.referrer_id, -1, out);
      if (after?.status === 'accepted') this.credit(appId, after.referrer_id, 1, out);
    }
    // Re-emit the cohorts of every touched user and of their referrers, over all their sign-ups
    // and all senders of the invitations those name: on a replay, the batch's effect is already
    // counted and these are the cohorts it may have moved users or credits out of.
    for (const [appId, users] of touched) {
      const cohortOf = this.cohortOf.of(appId);
      const touchCohortOf = (userId: string): void => {
        for (const cell of cohortOf.get(userId) ?? []) out.add(cell);
      };
      const touchSenders = (inviteId: string): void => {
        for (const send of this.watch.sendHistory(appId, inviteId) ?? []) touchCohortOf(send.sender_id);
      };
      for (const userId of users) {
        touchCohortOf(userId);
        const view = this.watch.view(appId, userId);
        // The resolved referrer is the invitation's first sender when the invitation is known.
        if (view && view.referrer_id !== '') touchCohortOf(view.referrer_id);
        if (view && view.invite_id !== '') touchSenders(view.invite_id);
        for (const s of this.watch.signupHistory(appId, userId) ?? []) {
          for (const cell of this.cellsOf(appId, s.at)) out.add(cell);
          touchCohortOf(s.referrer_id);
          if (s.invite_id !== '') touchSenders(s.invite_id);
        }
      }
    }
    return [{ table: COHORT_TABLE, rows: this.emit(out, now) }];
  }

  /** Count one accepted edge more or less for `referrerId`, in their cohort if they are counted yet. */
  private credit(appId: string, referrerId: string, sign: 1 | -1, out: Set<Cell>): void {
    const acceptedFrom = this.acceptedFrom.of(appId);
    const n = (acceptedFrom.get(referrerId) ?? 0) + sign;
    if (n === 0) acceptedFrom.delete(referrerId);
    else acceptedFrom.set(referrerId, n);
    for (const cell of this.cohortOf.get(appId, referrerId) ?? []) {
      cell.referred += sign;
      out.add(cell);
    }
  }

  private cellsOf(appId: string, signupAt: number): Cell[] {
    return GRANULARITIES.map((granularity) => {
      const start = windowStart(signupAt, granularity);
      const key = cellKey(appId, granularity, start);
      let cell = this.cells.get(key);
      if (!cell) {
        cell = { app_id: appId, granularity, window_start: start, size: 0, referred: 0 };
        this.cells.set(key, cell);
      }
      return cell;
    });
  }

  private emit(out: Set<Cell>, now: number): CohortRow[] {
    const rows: CohortRow[] = [];
    for (const cell of out) {
      rows.push({
        app_id: cell.app_id,
        granularity: cell.granularity,
        window_start: cell.window_start / 1000,
        cohort_size: cell.size,
        referred_signups: cell.referred,
        cohort_k: cell.size === 0 ? 0 : cell.referred / cell.size,
        version: rowVersion(now),
      });
      if (cell.size === 0) this.cells.delete(cellKey(cell.app_id, cell.granularity, cell.window_start));
    }
    return rows;
  }
}
