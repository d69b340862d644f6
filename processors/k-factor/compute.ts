// Viral coefficient per app × granularity × window × channel (design §5), kept incrementally so a
// batch costs time proportional to what it touches, never a rescan of all invitations.
//
// Definitions as implemented (design §5 plus the lead's choices where §5 is silent):
// - An invitation's sender, time and channel are those of its earliest `invite_sent` event
//   (ties: smaller event_id); the referral graph resolves that and we read it from there.
// - It is accepted iff some user's FIRST sign-up names its invite_id, that node is not rejected
//   (status `self_referral` or `cycle`), and signup_at ≤ sent_at + attribution window (30 days
//   by default, inclusive). There is no lower bound: a sign-up stamped before sent_at (client
//   clock error) still counts. Each invitation counts once however many users accept it.
// - Everything is credited to the windows (and channel) in which the invitation was SENT, so a
//   late acceptance, or one that arrives before its invitation, updates those windows.
import { CHANNELS, type Channel, type ViralEvent } from '../../core/events/types.ts';
import { listOnce, rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import { DAY_MS, GRANULARITIES, HOUR_MS, windowStart, type Granularity } from '../../core/time.ts';
import { GraphWatch, type GraphSource, type NodeView } from './graph-watch.ts';
import { oneOrMapDelete, oneOrMapSet, oneOrMapSome, type OneOrMap } from '../../core/one-or-map.ts';

export const KFACTOR_TABLE = 'kfactor_windows';
/** Design §5: "within the attribution window (default 30 days after the invitation)". */
export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 30;

export type KFactorChannel = Channel | 'all';

/** One row of `viral.kfactor_windows` (sql/migrations/0300_create_kfactor_windows.sql). */
export type KFactorRow = {
  app_id: string;
  granularity: Granularity;
  /** Unix seconds (ClickHouse DateTime). */
  window_start: number;
  channel: KFactorChannel;
  invites_sent: number;
  inviters: number;
  invites_accepted: number;
  conversion_rate: number;
  invites_per_inviter: number;
  k_factor: number;
  version: number;
};

export interface KFactorOptions {
  /** Acceptances later than sent_at + this many days are not credited (§5; config `attributionWindowDays`). */
  attributionWindowDays?: number;
}

/** §5 ratios from the three counts; 0 instead of NaN for empty windows. */
export function kFactorMetrics(invitesSent: number, inviters: number, invitesAccepted: number) {
  const conversion_rate = invitesSent === 0 ? 0 : invitesAccepted / invitesSent;
  const invites_per_inviter = inviters === 0 ? 0 : invitesSent / inviters;
  return { conversion_rate, invites_per_inviter, k_factor: invites_per_inviter * conversion_rate };
}

/**
 * What the processor keeps per invitation, in one map entry (one lookup per invitation a batch
 * touches): how it is currently counted in the window cells, and who accepted it.
 */
interface Tracked {
  /** The cells it is counted in; NOT_COUNTED while the graph does not know the invitation. */
  cells: readonly Cell[];
  /** The counted first send (meaningful only while counted). */
  sent_at: number;
  channel: Channel | '';
  sender: Sender;
  accepted: boolean;
  /**
   * Eligible acceptors (first sign-up names it, not rejected) with their signup_at: the only one
   * itself (most invitations), a Map by user id from the second.
   */
  acceptors: OneOrMap<Acceptor> | undefined;
}

interface Acceptor {
  readonly user_id: string;
  readonly signup_at: number;
}
const acceptorId = (a: Acceptor) => a.user_id;

/**
 * A sender's invitations per cell, for the distinct inviters of each cell under removal. Keyed by
 * the cell object: the sender's few cells, instead of a map of sender ids in every cell.
 */
interface Sender {
  readonly id: string;
  readonly cells: Map<Cell, number>;
}

interface Cell {
  app_id: string;
  granularity: Granularity;
  window_start: number;
  channel: KFactorChannel;
  /** Its key in the app's cell index (see cellKey). */
  key: number | string;
  invites: number;
  /** Senders with at least one of the cell's invitations. */
  inviters: number;
  accepted: number;
  /** The last apply that listed the cell for output (a per-batch stamp instead of a Set). */
  listedIn: number;
  /** Dropped from the app's cell index (emitted without invitations): a shared cells array holding it is stale. */
  dropped: boolean;
}

interface AppState {
  invitations: Map<string, Tracked>;
  senders: Map<string, Sender>;
  /** The sender `sender()` returned last (still in `senders`). */
  lastSender: Sender | undefined;
  /** cellKey → cell; a cell is dropped once emitted without invitations. */
  cells: Map<number | string, Cell>;
  /**
   * The cells of a send, one array shared by every invitation sent in the same hour on the same
   * channel (instead of an array per invitation, ~96 B each), keyed by that hour-and-channel cell's
   * key. A cell is dropped only once it counts no invitation, and each cell of an array counts
   * every invitation its hour-and-channel cell counts, so no counted invitation refers to an array
   * holding a dropped cell; such an array is rebuilt when next asked for.
   */
  sends: Map<number | string, readonly Cell[]>;
}

/** The cells of an invitation not counted (the graph does not know it). */
const NOT_COUNTED: readonly Cell[] = [];
const NO_SENDER: Sender = { id: '', cells: new Map() };

function newTracked(): Tracked {
  return { cells: NOT_COUNTED, sent_at: 0, channel: '', sender: NO_SENDER, accepted: false, acceptors: undefined };
}

/** Channels in a fixed order for cell keys; `all` last. */
const KEY_CHANNELS: readonly KFactorChannel[] = [...CHANNELS, 'all'];
const ALL = KEY_CHANNELS.length - 1;
const [HOUR, DAY, WEEK] = (['hour', 'day', 'week'] as const).map((g) => GRANULARITIES.indexOf(g));

/**
 * A cell's key within its app: a small integer instead of a string concatenated per lookup,
 * built from the window's hour number (every window starts on a whole hour), the granularity and
 * the channel. Kept in the 31-bit range where V8 stores it unboxed (no heap number per lookup),
 * which covers every time up to the year 12000; later times keep an exact (boxed) number. A
 * channel outside CHANNELS (ingest validation and the processors' decoder refuse it; only a
 * direct caller of apply could pass one) gets a string.
 */
function cellKey(start: number, granularity: number, channel: number | string): number | string {
  if (typeof channel === 'string') return start + '\u0000' + granularity + '\u0000' + channel;
  const key = ((start / HOUR_MS) * GRANULARITIES.length + granularity) * KEY_CHANNELS.length + channel;
  return key >= 0 && key <= 0x3fffffff ? key | 0 : key;
}

function eligible(view: NodeView | undefined): view is NodeView {
  return view !== undefined && view.invite_id !== '' && (view.status === 'accepted' || view.status === 'pending');
}

/** Invitations per app, in first-marked order. */
class InviteMarks {
  readonly apps = new Map<string, Set<string>>();
  private lastAppId: string | undefined;
  private last: Set<string> | undefined;

  add(appId: string, inviteId: string): void {
    if (inviteId === '') return;
    if (appId !== this.lastAppId) {
      let set = this.apps.get(appId);
      if (!set) this.apps.set(appId, (set = new Set()));
      this.lastAppId = appId;
      this.last = set;
    }
    this.last!.add(inviteId);
  }
}

/**
 * The viral-coefficient processor. Reads the shared referral graph, which the runtime has
 * already applied to the same batch. Returns the current `kfactor_windows` row of every cell an
 * event of the batch touches (also for duplicate events) and of every cell whose counts changed;
 * a cell that lost all its invitations is re-emitted with zeros (readers keep invites_sent > 0).
 */
export class KFactorProcessor implements Processor {
  readonly name = 'k-factor';
  private readonly watch: GraphWatch;
  private readonly attributionWindowMs: number;
  private readonly apps = new Map<string, AppState>();
  // Batches are mostly of one app: the last app's state answers without a lookup in `apps`.
  private lastAppId: string | undefined;
  private lastApp: AppState | undefined;
  /** The cells to emit in this apply, in the order first listed. */
  private out: Cell[] = [];
  private applies = 0;

  constructor(
    private readonly graph: GraphSource,
    options: KFactorOptions = {},
  ) {
    this.watch = new GraphWatch(graph);
    this.attributionWindowMs = (options.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS) * DAY_MS;
  }

  apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    this.applies++;
    this.out = [];
    // Invitations per app whose counting may change (`dirty`) or whose cells are only re-emitted.
    const dirty = new InviteMarks();
    const reemit = new InviteMarks();
    for (const e of events) if (e.type === 'invite_sent' || e.type === 'signup') dirty.add(e.app_id, e.invite_id);
    const { changed, touched } = this.watch.observe(events);
    for (const d of changed) {
      const app = this.app(d.app_id);
      if (eligible(d.before)) {
        const t = app.invitations.get(d.before.invite_id);
        if (t) t.acceptors = oneOrMapDelete(t.acceptors, d.user_id, acceptorId);
        dirty.add(d.app_id, d.before.invite_id);
      }
      if (eligible(d.after)) {
        const t = this.tracked(app, d.after.invite_id);
        t.acceptors = oneOrMapSet(t.acceptors, d.user_id, { user_id: d.user_id, signup_at: d.after.signup_at }, acceptorId);
        dirty.add(d.app_id, d.after.invite_id);
      }
    }
    // The graph's change also lists unchanged users (a duplicate's chain, ancestors whose subtree
    // grew): re-emit every invitation any of their sign-ups named, which on a replay covers the
    // ones the batch took an acceptance from.
    for (const [appId, users] of touched) {
      for (const userId of users) {
        const history = this.watch.signupHistory(appId, userId);
        if (history) for (const s of history) reemit.add(appId, s.invite_id);
        else {
          const view = this.watch.view(appId, userId);
          if (view) reemit.add(appId, view.invite_id);
        }
      }
    }
    for (const [appId, invites] of dirty.apps) {
      const app = this.app(appId);
      for (const inviteId of invites) this.reconcile(appId, app, inviteId);
    }
    for (const [appId, invites] of reemit.apps) {
      const done = dirty.apps.get(appId);
      const app = this.app(appId);
      for (const inviteId of invites) {
        if (done?.has(inviteId)) continue;
        const t = app.invitations.get(inviteId);
        if (t) this.list(t.cells);
        this.addOtherSends(appId, app, inviteId, t);
      }
    }
    const rows = this.emit(now);
    this.out = [];
    return [{ table: KFACTOR_TABLE, rows }];
  }

  private app(appId: string): AppState {
    if (appId === this.lastAppId) return this.lastApp!;
    let app = this.apps.get(appId);
    if (!app) this.apps.set(appId, (app = { invitations: new Map(), senders: new Map(), lastSender: undefined, cells: new Map(), sends: new Map() }));
    this.lastAppId = appId;
    this.lastApp = app;
    return app;
  }

  private tracked(app: AppState, inviteId: string): Tracked {
    let t = app.invitations.get(inviteId);
    if (!t) app.invitations.set(inviteId, (t = newTracked()));
    return t;
  }

  /** Bring one invitation's contribution in line with the graph; list its old and new cells. */
  private reconcile(appId: string, app: AppState, inviteId: string): void {
    const inv = this.graph.invitation(appId, inviteId);
    let t = app.invitations.get(inviteId);
    let accepted = false;
    if (inv && t?.acceptors) {
      const deadline = inv.sent_at + this.attributionWindowMs;
      accepted = oneOrMapSome(t.acceptors, (a) => a.signup_at <= deadline);
    }
    const old = t ? t.cells : NOT_COUNTED;
    if (!inv) {
      if (t && old !== NOT_COUNTED) {
        this.uncount(app, t);
        t.cells = NOT_COUNTED;
      }
    } else if (!t || old === NOT_COUNTED || t.sent_at !== inv.sent_at || t.channel !== inv.channel || t.sender.id !== inv.sender_id) {
      if (!t) app.invitations.set(inviteId, (t = newTracked()));
      else if (old !== NOT_COUNTED) this.uncount(app, t);
      t.sent_at = inv.sent_at;
      t.channel = inv.channel;
      t.sender = this.sender(app, inv.sender_id);
      t.accepted = accepted;
      t.cells = this.cellsOf(appId, app, inv.sent_at, inv.channel);
      this.add(t, 1);
    } else if (t.accepted !== accepted) {
      for (const cell of old) cell.accepted += accepted ? 1 : -1;
      t.accepted = accepted;
    }
    this.list(old);
    if (t) {
      this.list(t.cells);
      // Neither counted nor accepted: nothing left to keep.
      if (t.cells === NOT_COUNTED && !t.acceptors) app.invitations.delete(inviteId);
    }
    this.addOtherSends(appId, app, inviteId, t);
  }

  /**
   * The cells of the invitation's other `invite_sent` events: on a replay, the cells of an
   * earlier-known first send are where the batch took the invitation from.
   */
  private addOtherSends(appId: string, app: AppState, inviteId: string, t: Tracked | undefined): void {
    const sends = this.watch.sendHistory(appId, inviteId);
    if (!sends) return;
    for (const send of sends) {
      if (t && t.cells !== NOT_COUNTED && send.at === t.sent_at && send.channel === t.channel) continue;
      this.list(this.cellsOf(appId, app, send.at, send.channel));
    }
  }

  /** Adds the cells to this apply's output, each once. */
  private list(cells: readonly Cell[]): void {
    listOnce(cells, this.applies, this.out);
  }

  private sender(app: AppState, senderId: string): Sender {
    // A sender's invitations tend to arrive together: the last one found answers without a lookup.
    if (app.lastSender?.id === senderId) return app.lastSender;
    let s = app.senders.get(senderId);
    if (!s) app.senders.set(senderId, (s = { id: senderId, cells: new Map() }));
    app.lastSender = s;
    return s;
  }

  /** Counts the invitation out of its cells; forgets its sender once they have no invitation counted. */
  private uncount(app: AppState, t: Tracked): void {
    this.add(t, -1);
    if (t.sender.cells.size === 0) {
      app.senders.delete(t.sender.id);
      if (app.lastSender === t.sender) app.lastSender = undefined;
    }
  }

  /** Counts the invitation in (+1) or out of (-1) its cells. */
  private add(t: Tracked, sign: 1 | -1): void {
    const sender = t.sender;
    for (const cell of t.cells) {
      cell.invites += sign;
      const n = (sender.cells.get(cell) ?? 0) + sign;
      if (n === 0) {
        sender.cells.delete(cell);
        cell.inviters -= 1;
      } else {
        sender.cells.set(cell, n);
        if (n === 1 && sign === 1) cell.inviters += 1;
      }
      if (t.accepted) cell.accepted += sign;
    }
  }

  /** The cells of a send: hour, day and week of its time × its channel and `all` (shared, see AppState.sends). */
  private cellsOf(appId: string, app: AppState, sentAt: number, channel: Channel | ''): readonly Cell[] {
    const hour = windowStart(sentAt, 'hour');
    // A channel-less invitation cannot pass ingest validation (§3); it would count under `all` only.
    const known = channel === '' ? ALL : KEY_CHANNELS.indexOf(channel);
    const ch = known >= 0 ? known : channel;
    const key = cellKey(hour, HOUR, ch);
    const shared = app.sends.get(key);
    if (shared && !shared.some((c) => c.dropped)) return shared;
    const day = windowStart(sentAt, 'day');
    const week = windowStart(sentAt, 'week');
    const cells =
      ch === ALL
        ? [this.cell(app, appId, HOUR, hour, ALL), this.cell(app, appId, DAY, day, ALL), this.cell(app, appId, WEEK, week, ALL)]
        : [
            this.cell(app, appId, HOUR, hour, ch),
            this.cell(app, appId, HOUR, hour, ALL),
            this.cell(app, appId, DAY, day, ch),
            this.cell(app, appId, DAY, day, ALL),
            this.cell(app, appId, WEEK, week, ch),
            this.cell(app, appId, WEEK, week, ALL),
          ];
    app.sends.set(key, cells);
    return cells;
  }

  private cell(app: AppState, appId: string, g: number, start: number, ch: number | string): Cell {
    const key = cellKey(start, g, ch);
    let cell = app.cells.get(key);
    if (!cell) {
      const channel = typeof ch === 'string' ? (ch as KFactorChannel) : KEY_CHANNELS[ch];
      cell = { app_id: appId, granularity: GRANULARITIES[g], window_start: start, channel, key, invites: 0, inviters: 0, accepted: 0, listedIn: 0, dropped: false };
      app.cells.set(key, cell);
    }
    return cell;
  }

  private emit(now: number): KFactorRow[] {
    const rows: KFactorRow[] = [];
    for (const cell of this.out) {
      // kFactorMetrics, inlined: no intermediate object per row.
      const inviters = cell.inviters;
      const conversion_rate = cell.invites === 0 ? 0 : cell.accepted / cell.invites;
      const invites_per_inviter = inviters === 0 ? 0 : cell.invites / inviters;
      rows.push({
        app_id: cell.app_id,
        granularity: cell.granularity,
        window_start: cell.window_start / 1000,
        channel: cell.channel,
        invites_sent: cell.invites,
        inviters,
        invites_accepted: cell.accepted,
        conversion_rate,
        invites_per_inviter,
        k_factor: invites_per_inviter * conversion_rate,
        version: rowVersion(now),
      });
      if (cell.invites === 0) {
        const app = this.app(cell.app_id);
        app.cells.delete(cell.key);
        cell.dropped = true;
        // An hour cell keys the shared cells of its sends (AppState.sends).
        if (cell.granularity === 'hour') app.sends.delete(cell.key);
      }
    }
    return rows;
  }
}
