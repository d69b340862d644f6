// What the window processors (k-factor, cohorts) read from the shared referral graph, and how they
// learn what a batch changed in it. The runtime applies the graph to a batch before it calls these
// processors with the same events; the graph's change subscription (graph.ts `subscribe`) then
// lists every user whose node changed or whose own sign-up is in the batch, including duplicates,
// the members of a referral cycle the batch closed or broke and, for a duplicate of a deciding
// sign-up, its subtree and ancestors.
//
// Each processor owns one watch, holding the node views it last counted, so its counts and its
// notion of "before" always agree. The watch also remembers, per user with several sign-ups (or
// one naming both an invitation and a referral code) and per invitation with several `invite_sent`
// events, every one of them: when a batch is replayed after a crash (core/processor.ts), the state
// already holds its effect, so the windows it emptied (where the user's or the invitation's
// earlier-known first event lay, or the referrer it had before) are found only from that record.
import type { ViralEvent } from '../../core/events/types.ts';
import type { ReferralGraph } from '../referral-graph/graph.ts';
import type { EdgeStatus, Invitation, UserNode } from '../referral-graph/types.ts';

/** The part of the shared graph the window processors use. */
export type GraphSource = Pick<ReferralGraph, 'node' | 'invitation' | 'subscribe'>;

/** The part of a user's node that the window metrics (§5) depend on. */
export interface NodeView {
  readonly signup_event_id: string;
  readonly signup_at: number;
  readonly invite_id: string;
  readonly referrer_id: string;
  readonly status: EdgeStatus;
}

/** A user whose node differs from what the processor last counted. */
export interface NodeDelta {
  readonly app_id: string;
  readonly user_id: string;
  readonly before: NodeView | undefined;
  readonly after: NodeView | undefined;
}

/** One sign-up of a user: its time, invitation and referrer (as posted, or as the graph resolved it). */
export interface SignupTrace {
  readonly event_id: string;
  readonly at: number;
  readonly invite_id: string;
  readonly referrer_id: string;
}

/** One `invite_sent` of an invitation. */
export interface SendTrace {
  readonly event_id: string;
  readonly at: number;
  readonly channel: Invitation['channel'];
  readonly sender_id: string;
}

/**
 * What the watch keeps per invitation, in one map entry: its earliest send as last seen (updated
 * in place) and, once it has more than one send, every send known (`all`).
 */
interface SendRecord {
  event_id: string;
  at: number;
  channel: Invitation['channel'];
  sender_id: string;
  all: SendTrace[] | undefined;
}

/**
 * A map per app keyed by the plain user or invite id. Lookups reuse the id strings the graph and
 * the events already hold (their hash is cached), instead of building a combined key each time:
 * the processors look up every user of every change.
 */
export class AppMap<V> {
  private readonly apps = new Map<string, Map<string, V>>();
  // Batches are mostly of one app: the last app's map answers without a lookup in `apps`.
  private lastAppId: string | undefined;
  private lastMap: Map<string, V> | undefined;

  of(appId: string): Map<string, V> {
    if (appId === this.lastAppId) return this.lastMap!;
    let m = this.apps.get(appId);
    if (!m) this.apps.set(appId, (m = new Map()));
    this.lastAppId = appId;
    this.lastMap = m;
    return m;
  }

  get(appId: string, id: string): V | undefined {
    return (appId === this.lastAppId ? this.lastMap : this.apps.get(appId))?.get(id);
  }
}

function viewOf(node: UserNode): NodeView {
  return {
    signup_event_id: node.signup_event_id,
    signup_at: node.signup_at,
    invite_id: node.invite_id,
    referrer_id: node.referrer_id,
    status: node.status,
  };
}

function sameView(a: NodeView | undefined, b: UserNode | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined && b === undefined;
  return (
    a.signup_event_id === b.signup_event_id &&
    a.signup_at === b.signup_at &&
    a.invite_id === b.invite_id &&
    a.referrer_id === b.referrer_id &&
    a.status === b.status
  );
}

const signupTrace = (v: NodeView): SignupTrace => ({ event_id: v.signup_event_id, at: v.signup_at, invite_id: v.invite_id, referrer_id: v.referrer_id });
const eventSignupTrace = (e: ViralEvent): SignupTrace => ({ event_id: e.event_id, at: e.occurred_at, invite_id: e.invite_id, referrer_id: e.referrer_id });
const sendTrace = (i: Invitation): SendTrace => ({ event_id: i.event_id, at: i.sent_at, channel: i.channel, sender_id: i.sender_id });
const eventSendTrace = (e: ViralEvent): SendTrace => ({ event_id: e.event_id, at: e.occurred_at, channel: e.channel, sender_id: e.user_id });
const copyTrace = (t: SendTrace): SendTrace => ({ event_id: t.event_id, at: t.at, channel: t.channel, sender_id: t.sender_id });

const sameSignup = (a: SignupTrace, b: SignupTrace): boolean =>
  a.event_id === b.event_id && a.at === b.at && a.invite_id === b.invite_id && a.referrer_id === b.referrer_id;
const sameSend = (a: SendTrace, b: SendTrace): boolean => a.event_id === b.event_id && a.at === b.at && a.channel === b.channel && a.sender_id === b.sender_id;

/** Appends the traces not yet in the list (rare: only ids with several events get a list). */
function append<T>(list: T[], same: (a: T, b: T) => boolean, a: T, b?: T): void {
  if (!list.some((x) => same(x, a))) list.push(a);
  if (b !== undefined && !list.some((x) => same(x, b))) list.push(b);
}

function rememberSignups(index: Map<string, SignupTrace[]>, userId: string, a: SignupTrace, b?: SignupTrace): void {
  let list = index.get(userId);
  if (!list) index.set(userId, (list = []));
  append(list, sameSignup, a, b);
}

function remember(record: SendRecord, a: SendTrace, b: SendTrace): void {
  append((record.all ??= []), sameSend, a, b);
}

export class GraphWatch {
  private readonly subscription: ReturnType<GraphSource['subscribe']>;
  private readonly seen = new AppMap<NodeView>();
  /** Per invitation: its earliest send as last seen and, once it has several, all of them. */
  private readonly sends = new AppMap<SendRecord>();
  /** Only users with more than one sign-up (see the file header). */
  private readonly signups = new AppMap<SignupTrace[]>();

  /** Subscribes to the graph's changes: create the watch before the first batch is applied. */
  constructor(private readonly graph: GraphSource) {
    this.subscription = graph.subscribe();
  }

  /**
   * Call after the graph has applied `events`. Returns the nodes that differ from what this
   * watch reported before (the caller counts them), and `touched`: app → every user the graph's
   * change lists, changed or not, whose rows the caller re-emits.
   */
  observe(events: readonly ViralEvent[]): { changed: NodeDelta[]; touched: ReadonlyMap<string, ReadonlySet<string>> } {
    const changed: NodeDelta[] = [];
    const touched = new Map<string, ReadonlySet<string>>();
    // The drained nodes first: afterwards `seen` holds the current node of every user the batch
    // signed up (the graph lists each of them), so the sign-up loop below reads it from there
    // instead of asking the graph for a fresh node copy per event.
    for (const [appId, c] of this.subscription.drain().apps) {
      touched.set(appId, c.users);
      const seen = this.seen.of(appId);
      for (const userId of c.users) {
        const before = seen.get(userId);
        const node = this.graph.node(appId, userId);
        if (sameView(before, node)) continue;
        const after = node && viewOf(node);
        if (after) seen.set(userId, after);
        else seen.delete(userId);
        changed.push({ app_id: appId, user_id: userId, before, after });
      }
    }
    for (const e of events) {
      if (e.type === 'invite_sent') this.recordSend(e);
      else if (e.type === 'signup') {
        const users = touched.get(e.app_id);
        // Outside the drained change only when the caller broke the contract (the graph did not
        // apply this event since the last observe): then ask the graph, as `seen` may be stale.
        const first: NodeView | undefined = users?.has(e.user_id) ? this.seen.get(e.app_id, e.user_id) : this.graph.node(e.app_id, e.user_id);
        if (first && first.signup_event_id !== e.event_id) rememberSignups(this.signups.of(e.app_id), e.user_id, signupTrace(first), eventSignupTrace(e));
        // The node shows only the resolved referrer; a referral code posted beside an invite_id
        // was the referrer while the invitation was unknown, so keep it too.
        else if (e.invite_id !== '' && e.referrer_id !== '') rememberSignups(this.signups.of(e.app_id), e.user_id, eventSignupTrace(e));
      }
    }
    // Users whose first sign-up changed: both sign-ups (recorded after the events' traces, in
    // the order the lists have always been built).
    for (const { app_id: appId, user_id: userId, before, after } of changed) {
      if (before && after && before.signup_event_id !== after.signup_event_id) {
        rememberSignups(this.signups.of(appId), userId, signupTrace(before), signupTrace(after));
      }
    }
    return { changed, touched };
  }

  private recordSend(e: ViralEvent): void {
    const inv = this.graph.invitation(e.app_id, e.invite_id);
    if (!inv) return;
    const sends = this.sends.of(e.app_id);
    const record = sends.get(e.invite_id);
    if (!record) {
      const created: SendRecord = { event_id: inv.event_id, at: inv.sent_at, channel: inv.channel, sender_id: inv.sender_id, all: undefined };
      sends.set(e.invite_id, created);
      if (inv.event_id !== e.event_id) remember(created, sendTrace(inv), eventSendTrace(e));
      return;
    }
    if (record.event_id === inv.event_id && record.at === inv.sent_at && record.channel === inv.channel && record.sender_id === inv.sender_id) {
      // The first send is unchanged (the common case, nothing allocated): a duplicate of it, or
      // a later send to record beside it.
      if (inv.event_id !== e.event_id) remember(record, copyTrace(record), eventSendTrace(e));
      return;
    }
    const previous = copyTrace(record);
    const first = sendTrace(inv);
    if (previous.event_id !== first.event_id) remember(record, previous, first);
    if (first.event_id !== e.event_id) remember(record, first, eventSendTrace(e));
    record.event_id = first.event_id;
    record.at = first.at;
    record.channel = first.channel;
    record.sender_id = first.sender_id;
  }

  /** The user's node as last reported. */
  view(appId: string, userId: string): NodeView | undefined {
    return this.seen.get(appId, userId);
  }

  /**
   * Every sign-up of the user known so far, for the few users with more than one, or one naming
   * both an invitation and a referral code; undefined for everybody else, whose only sign-up is
   * their `view`.
   */
  signupHistory(appId: string, userId: string): readonly SignupTrace[] | undefined {
    return this.signups.get(appId, userId);
  }

  /**
   * Every `invite_sent` of the invitation known so far, for the few sent more than once;
   * undefined for the others, whose only send is the graph's invitation.
   */
  sendHistory(appId: string, inviteId: string): readonly SendTrace[] | undefined {
    return this.sends.get(appId, inviteId)?.all;
  }
}
