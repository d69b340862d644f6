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
import type { Channel, ViralEvent } from '../../core/events/types.ts';
import { rowVersion, type Processor, type RowBatch } from '../../core/processor.ts';
import { DAY_MS, GRANULARITIES, windowStart, type Granularity } from '../../core/time.ts';
import { AppMap, GraphWatch, type GraphSource, type NodeView } from './graph-watch.ts';

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

/** An invitation as it is currently counted in the window cells. */
interface Counted {
  sent_at: number;
  channel: Channel | '';
  sender_id: string;
  accepted: boolean;
  /** The cells it is counted in (kept: a counted invitation keeps its cells non-empty). */
  cells: Cell[];
}

interface Cell {
  app_id: string;
  granularity: Granularity;
  window_start: number;
  channel: KFactorChannel;
  invites: number;
  /** Sender → how many of the cell's invitations they sent: distinct inviters under removal. */
  senders: Map<string, number>;
  accepted: number;
}

function cellKey(appId: string, granularity: Granularity, start: number, channel: KFactorChannel): string {
  return appId + '\u0000' + granularity + '\u0000' + start + '\u0000' + channel;
}

function eligible(view: NodeView | undefined): view is NodeView {
  return view !== undefined && view.invite_id !== '' && (view.status === 'accepted' || view.status === 'pending');
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
  private readonly counted = new AppMap<Counted>();
  /** Invitation → eligible acceptors (first sign-up names it, not rejected) → their signup_at. */
  private readonly acceptors = new AppMap<Map<string, number>>();
  private readonly cells = new Map<string, Cell>();

  constructor(
    private readonly graph: GraphSource,
    options: KFactorOptions = {},
  ) {
    this.watch = new GraphWatch(graph);
    this.attributionWindowMs = (options.attributionWindowDays ?? DEFAULT_ATTRIBUTION_WINDOW_DAYS) * DAY_MS;
  }

  apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    // Invitations per app whose counting may change (`dirty`) or whose cells are only re-emitted.
    const dirty = new Map<string, Set<string>>();
    const reemit = new Map<string, Set<string>>();
    const mark = (into: Map<string, Set<string>>, appId: string, inviteId: string): void => {
      if (inviteId === '') return;
      const set = into.get(appId);
      if (set) set.add(inviteId);
      else into.set(appId, new Set([inviteId]));
    };
    for (const e of events) if (e.type === 'invite_sent' || e.type === 'signup') mark(dirty, e.app_id, e.invite_id);
    const { changed, touched } = this.watch.observe(events);
    for (const d of changed) {
      const acceptors = this.acceptors.of(d.app_id);
      if (eligible(d.before)) {
        const users = acceptors.get(d.before.invite_id);
        users?.delete(d.user_id);
        if (users?.size === 0) acceptors.delete(d.before.invite_id);
        mark(dirty, d.app_id, d.before.invite_id);
      }
      if (eligible(d.after)) {
        let users = acceptors.get(d.after.invite_id);
        if (!users) acceptors.set(d.after.invite_id, (users = new Map()));
        users.set(d.user_id, d.after.signup_at);
        mark(dirty, d.app_id, d.after.invite_id);
      }
    }
    // The graph's change also lists unchanged users (a duplicate's chain, ancestors whose subtree
    // grew): re-emit every invitation any of their sign-ups named, which on a replay covers the
    // ones the batch took an acceptance from.
    for (const [appId, users] of touched) {
      for (const userId of users) {
        const history = this.watch.signupHistory(appId, userId);
        if (history) for (const s of history) mark(reemit, appId, s.invite_id);
        else mark(reemit, appId, this.watch.view(appId, userId)?.invite_id ?? '');
      }
    }
    const out = new Set<Cell>();
    for (const [appId, invites] of dirty) for (const inviteId of invites) this.reconcile(appId, inviteId, out);
    for (const [appId, invites] of reemit) {
      const done = dirty.get(appId);
      const counted = this.counted.of(appId);
      for (const inviteId of invites) {
        if (done?.has(inviteId)) continue;
        const current = counted.get(inviteId);
        if (current) for (const cell of current.cells) out.add(cell);
        this.addOtherSends(appId, inviteId, current, out);
      }
    }
    return [{ table: KFACTOR_TABLE, rows: this.emit(out, now) }];
  }

  /** Bring one invitation's contribution in line with the graph; collect its old and new cells. */
  private reconcile(appId: string, inviteId: string, out: Set<Cell>): void {
    const counted = this.counted.of(appId);
    const old = counted.get(inviteId);
    const inv = this.graph.invitation(appId, inviteId);
    let accepted = false;
    if (inv) {
      const deadline = inv.sent_at + this.attributionWindowMs;
      for (const signupAt of this.acceptors.get(appId, inviteId)?.values() ?? []) {
        if (signupAt <= deadline) {
          accepted = true;
          break;
        }
      }
    }
    let current = old;
    if (!inv) {
      if (old) this.add(old, -1);
      counted.delete(inviteId);
      current = undefined;
    } else if (!old || old.sent_at !== inv.sent_at || old.channel !== inv.channel || old.sender_id !== inv.sender_id) {
      if (old) this.add(old, -1);
      current = { sent_at: inv.sent_at, channel: inv.channel, sender_id: inv.sender_id, accepted, cells: this.cellsOf(appId, inv.sent_at, inv.channel) };
      counted.set(inviteId, current);
      this.add(current, 1);
    } else if (old.accepted !== accepted) {
      for (const cell of old.cells) cell.accepted += accepted ? 1 : -1;
      old.accepted = accepted;
    }
    if (old) for (const cell of old.cells) out.add(cell);
    if (current) for (const cell of current.cells) out.add(cell);
    this.addOtherSends(appId, inviteId, current, out);
  }

  /**
   * The cells of the invitation's other `invite_sent` events: on a replay, the cells of an
   * earlier-known first send are where the batch took the invitation from.
   */
  private addOtherSends(appId: string, inviteId: string, current: Counted | undefined, out: Set<Cell>): void {
    for (const send of this.watch.sendHistory(appId, inviteId) ?? []) {
      if (current && send.at === current.sent_at && send.channel === current.channel) continue;
      for (const cell of this.cellsOf(appId, send.at, send.channel)) out.add(cell);
    }
  }

  private add(c: Counted, sign: 1 | -1): void {
    for (const cell of c.cells) {
      cell.invites += sign;
      const n = (cell.senders.get(c.sender_id) ?? 0) + sign;
      if (n === 0) cell.senders.delete(c.sender_id);
      else cell.senders.set(c.sender_id, n);
      if (c.accepted) cell.accepted += sign;
    }
  }

  /** The cells of a send: hour, day and week of its time × its channel and `all`. */
  private cellsOf(appId: string, sentAt: number, channel: Channel | ''): Cell[] {
    const cells: Cell[] = [];
    for (const granularity of GRANULARITIES) {
      const start = windowStart(sentAt, granularity);
      // A channel-less invitation cannot pass ingest validation (§3); it would count under `all` only.
      for (const ch of channel === '' ? (['all'] as const) : ([channel, 'all'] as const)) {
        const key = cellKey(appId, granularity, start, ch);
        let cell = this.cells.get(key);
        if (!cell) {
          cell = { app_id: appId, granularity, window_start: start, channel: ch, invites: 0, senders: new Map(), accepted: 0 };
          this.cells.set(key, cell);
        }
        cells.push(cell);
      }
    }
    return cells;
  }

  private emit(out: Set<Cell>, now: number): KFactorRow[] {
    const rows: KFactorRow[] = [];
    for (const cell of out) {
      rows.push({
        app_id: cell.app_id,
        granularity: cell.granularity,
        window_start: cell.window_start / 1000,
        channel: cell.channel,
        invites_sent: cell.invites,
        inviters: cell.senders.size,
        invites_accepted: cell.accepted,
        ...kFactorMetrics(cell.invites, cell.senders.size, cell.accepted),
        version: rowVersion(now),
      });
      if (cell.invites === 0) this.cells.delete(cellKey(cell.app_id, cell.granularity, cell.window_start, cell.channel));
    }
    return rows;
  }
}
