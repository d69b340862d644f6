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
import { listOnce, rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import { GRANULARITIES, HOUR_MS, windowStart, type Granularity } from '../../core/time.ts';
import { GraphWatch, type GraphSource } from '../k-factor/graph-watch.ts';

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
  /** Its key in the app's cell index (see cellKey). */
  key: number;
  size: number;
  referred: number;
  /** The last apply that listed the cell for output (a per-batch stamp instead of a Set). */
  listedIn: number;
}

/** What the processor keeps per user, in one map entry (one lookup per user a batch touches). */
interface Member {
  /** The cells (hour, day, week) of their counted first sign-up; NOT_MEMBER while not signed up. */
  cells: readonly Cell[];
  /** Accepted edges from them. Invariant: a cell's `referred` is the sum of this over its members. */
  credited: number;
}

interface AppState {
  members: Map<string, Member>;
  /** cellKey → cell; a cell is dropped once emitted empty. */
  cells: Map<number, Cell>;
}

const NOT_MEMBER: readonly Cell[] = [];
const [HOUR, DAY, WEEK] = (['hour', 'day', 'week'] as const).map((g) => GRANULARITIES.indexOf(g));

/**
 * A cell's key within its app: the window's hour number (every window starts on a whole hour)
 * and the granularity, an integer instead of a string concatenated per lookup. Kept in the 31-bit
 * range where V8 stores it unboxed, which covers every time up to the year 40000.
 */
function cellKey(start: number, granularity: number): number {
  const key = (start / HOUR_MS) * GRANULARITIES.length + granularity;
  return key >= 0 && key <= 0x3fffffff ? key | 0 : key;
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
  private readonly apps = new Map<string, AppState>();
  // Batches are mostly of one app: the last app's state answers without a lookup in `apps`.
  private lastAppId: string | undefined;
  private lastApp: AppState | undefined;
  /** The cells to emit in this apply, in the order first listed. */
  private out: Cell[] = [];
  private applies = 0;

  constructor(graph: GraphSource) {
    this.watch = new GraphWatch(graph);
  }

  apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    this.applies++;
    this.out = [];
    const { changed, touched } = this.watch.observe(events);
    for (const { app_id: appId, user_id: userId, before, after } of changed) {
      const app = this.app(appId);
      // Move the user's membership, with the referrals credited to them, between cohorts.
      const m = app.members.get(userId);
      const credited = m ? m.credited : 0;
      if (m) {
        for (const cell of m.cells) {
          cell.size -= 1;
          cell.referred -= credited;
        }
        this.list(m.cells);
      }
      if (after) {
        const cells = this.cellsOf(appId, app, after.signup_at);
        if (m) m.cells = cells;
        else app.members.set(userId, { cells, credited });
        for (const cell of cells) {
          cell.size += 1;
          cell.referred += credited;
        }
        this.list(cells);
      } else if (m) {
        m.cells = NOT_MEMBER;
        if (m.credited === 0) app.members.delete(userId);
      }
      if (before?.status === 'accepted') this.credit(app, before.referrer_id, -1);
      if (after?.status === 'accepted') this.credit(app, after.referrer_id, 1);
    }
    // Re-emit the cohorts of every touched user and of their referrers, over all their sign-ups
    // and all senders of the invitations those name: on a replay, the batch's effect is already
    // counted and these are the cohorts it may have moved users or credits out of.
    for (const [appId, users] of touched) {
      const app = this.app(appId);
      for (const userId of users) {
        this.listCohortOf(app, userId);
        const view = this.watch.view(appId, userId);
        // The resolved referrer is the invitation's first sender when the invitation is known.
        if (view && view.referrer_id !== '') this.listCohortOf(app, view.referrer_id);
        if (view && view.invite_id !== '') this.listSenders(appId, app, view.invite_id);
        const history = this.watch.signupHistory(appId, userId);
        if (!history) continue;
        for (const s of history) {
          this.list(this.cellsOf(appId, app, s.at));
          this.listCohortOf(app, s.referrer_id);
          if (s.invite_id !== '') this.listSenders(appId, app, s.invite_id);
        }
      }
    }
    const rows = this.emit(now);
    this.out = [];
    return [{ table: COHORT_TABLE, rows }];
  }

  private app(appId: string): AppState {
    if (appId === this.lastAppId) return this.lastApp!;
    let app = this.apps.get(appId);
    if (!app) this.apps.set(appId, (app = { members: new Map(), cells: new Map() }));
    this.lastAppId = appId;
    this.lastApp = app;
    return app;
  }

  /** Count one accepted edge more or less for `referrerId`, in their cohort if they are counted yet. */
  private credit(app: AppState, referrerId: string, sign: 1 | -1): void {
    let m = app.members.get(referrerId);
    if (!m) app.members.set(referrerId, (m = { cells: NOT_MEMBER, credited: 0 }));
    m.credited += sign;
    for (const cell of m.cells) cell.referred += sign;
    this.list(m.cells);
    if (m.credited === 0 && m.cells === NOT_MEMBER) app.members.delete(referrerId);
  }

  /** Adds the cells to this apply's output, each once. */
  private list(cells: readonly Cell[]): void {
    listOnce(cells, this.applies, this.out);
  }

  private listCohortOf(app: AppState, userId: string): void {
    const m = app.members.get(userId);
    if (m) this.list(m.cells);
  }

  /** The cohorts of every sender of the invitation (its send history, when it has one). */
  private listSenders(appId: string, app: AppState, inviteId: string): void {
    const sends = this.watch.sendHistory(appId, inviteId);
    if (sends) for (const send of sends) this.listCohortOf(app, send.sender_id);
  }

  private cellsOf(appId: string, app: AppState, signupAt: number): Cell[] {
    return [this.cell(app, appId, HOUR, signupAt), this.cell(app, appId, DAY, signupAt), this.cell(app, appId, WEEK, signupAt)];
  }

  private cell(app: AppState, appId: string, g: number, signupAt: number): Cell {
    const granularity = GRANULARITIES[g];
    const start = windowStart(signupAt, granularity);
    const key = cellKey(start, g);
    let cell = app.cells.get(key);
    if (!cell) {
      cell = { app_id: appId, granularity, window_start: start, key, size: 0, referred: 0, listedIn: 0 };
      app.cells.set(key, cell);
    }
    return cell;
  }

  private emit(now: number): CohortRow[] {
    const rows: CohortRow[] = [];
    for (const cell of this.out) {
      rows.push({
        app_id: cell.app_id,
        granularity: cell.granularity,
        window_start: cell.window_start / 1000,
        cohort_size: cell.size,
        referred_signups: cell.referred,
        cohort_k: cell.size === 0 ? 0 : cell.referred / cell.size,
        version: rowVersion(now),
      });
      if (cell.size === 0) this.app(cell.app_id).cells.delete(cell.key);
    }
    return rows;
  }
}
