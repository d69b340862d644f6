// The in-memory referral graph per app (design §5 "Referral graph"), kept incrementally.
//
// Definition (a function of the deduplicated event set, so any arrival order, batch split,
// duplicate or restart ends in the same graph — core/processor.ts order independence):
// - An invitation is its earliest `invite_sent` (occurred_at, ties: smaller event_id).
// - A user's first sign-up is their earliest `signup` (same order); only it can create an edge.
// - The named referrer of a first sign-up: the invitation's sender when its invite_id is known,
//   else its referrer_id (so a referral code still counts while the invitation is unknown; the
//   edge moves to the sender when the invitation arrives, design §5 "through invite_id → the
//   invitation's sender, else referrer_id"). Neither → `root`; an invite_id alone whose invitation
//   is unknown → `pending` until it arrives.
// - referrer = user → `self_referral`; referrer without a sign-up → `pending` until it arrives.
// - Otherwise the user has a candidate edge. Candidate edges form a functional graph (one parent
//   per user), so each connected component holds at most one cycle; in every cycle the edge whose
//   child has the LATEST first sign-up (ties: larger event_id) is rejected (`cycle`) and all other
//   edges are accepted. This equals "process edges in first-sign-up order and reject the edge that
//   closes a cycle", and it makes the choice independent of arrival order.
// - Rejected users (self_referral, cycle) and roots are depth 0 and their own root_id. A user whose
//   chain of accepted edges ends at a pending user has depth and root unknown (null) until it
//   resolves; then the whole subtree is corrected.
//
// Incremental maintenance: every input change is "user U's candidate edge may differ" (a new or
// earlier first sign-up of U, a new or changed invitation U's sign-up names, U's referrer signing
// up). `relink(U)` removes U's edge — re-accepting the rejected edge of the cycle it broke, if any
// — and adds the new one — rejecting the latest edge of the cycle it closes, if any. Each step
// keeps the state equal to the definition above. Costs: O(depth) per edge change (cycle check and
// ancestor statistics), plus O(subtree) when a subtree's depth or root changes (each node once per
// re-parenting of an ancestor), so an in-order stream costs O(depth) per sign-up.
import type { Channel, ViralEvent } from '../../core/events/types.ts';
import { userKey, type AppGraphChange, type EdgeStatus, type GraphChange, type Invitation, type ReferralNode, type SignupRef } from './types.ts';

// Memory (issue 4, loadtest/README.md "Issues 3 and 4"): a graph holds one Node per signed-up
// user, so every field costs 8 B per user (Node 20 here runs without pointer compression) and
// every per-node allocation costs its header on top. Children are therefore intrusive sibling
// links rather than an array per node (V8 gives an array's first push a 17-slot backing store,
// ~150 B, whatever the fan-out), and the per-apply bookkeeping is one packed field. Id strings
// decoded per event are copies (JSON.parse shares none), so the graph keeps one copy of each id
// where it can: a node's inviteId is the invitation's key string, its resolved referrer and the
// invitation's sender_id are the referrer Node's own id once the edge is found.
interface Node {
  readonly id: string;
  signupEventId: string;
  signupAt: number;
  inviteId: string;
  /** referrer_id of the first sign-up as posted. */
  namedReferrer: string;
  /** Resolved referrer ('' none); the candidate parent when status is accepted or cycle. */
  referrer: string;
  status: EdgeStatus;
  /** Accepted edge only. */
  parent: Node | null;
  /**
   * Accepted children as an intrusive list: the parent's firstChild, then nextSibling (null
   * after the last). prevSibling is circular (the first child's points at the last one), so
   * appending and removing are O(1). The order is what a `children` array would hold with
   * push to append and "move the last into the hole" to remove (see appendChild/removeChild):
   * the order of traversals, hence of the change lists, is the same as with that array.
   */
  firstChild: Node | null;
  nextSibling: Node | null;
  prevSibling: Node | null;
  childCount: number;
  /** -1 while the chain above ends at a pending user. */
  depth: number;
  root: Node | null;
  descendants: number;
  subtreeDepth: number;
  /** Descendants exactly 2 and 3 levels below (design §5 indirect_referrals). */
  level2: number;
  level3: number;
  /**
   * Change tracking of the current apply, packed in one field: 2·epoch once the node is recorded
   * as changed in that apply, 2·epoch + 1 once also as moved (moved implies changed); -1 for a
   * node no apply has recorded yet (a node being created).
   */
  marked: number;
}

type Category = 'root' | 'self_referral' | 'pending' | 'edge';

/** Nodes whose first sign-up named an invitation: one node alone (the usual case), or a list. */
type Acceptors = Node | Node[];

/**
 * A sent invitation as `ReferralGraph.invitation` answers it, which also holds its acceptors
 * (the nodes whose first sign-up named it; lazy: re-check node.inviteId on use), so an accepted
 * invitation costs no index entry and no one-element array of its own. Updated in place when an
 * earlier `invite_sent` of the same invite_id arrives.
 */
class InvitationRecord implements Invitation {
  constructor(
    public app_id: string,
    public readonly invite_id: string,
    public sender_id: string,
    public sent_at: number,
    public channel: Channel | '',
    public variant: string,
    public event_id: string,
    public acceptors: Acceptors | undefined,
  ) {}
}

function withAcceptor(list: Acceptors | undefined, n: Node): Acceptors {
  if (!list) return n;
  if (Array.isArray(list)) {
    list.push(n);
    return list;
  }
  return [list, n];
}

/** Event-time order of the definition: occurred_at, then event_id. */
function before(at: number, eventId: string, otherAt: number, otherEventId: string): boolean {
  return at < otherAt || (at === otherAt && eventId < otherEventId);
}

/** The edge of `a` is later than the edge of `b` in first-sign-up order. */
function later(a: Node, b: Node): boolean {
  return before(b.signupAt, b.signupEventId, a.signupAt, a.signupEventId);
}

function categoryOf(status: EdgeStatus): Category {
  return status === 'accepted' || status === 'cycle' ? 'edge' : status;
}

/** Appends C to P's children (the array's `push`). */
function appendChild(p: Node, c: Node): void {
  const first = p.firstChild;
  c.nextSibling = null;
  if (!first) {
    p.firstChild = c;
    c.prevSibling = c;
  } else {
    const last = first.prevSibling!;
    last.nextSibling = c;
    c.prevSibling = last;
    first.prevSibling = c;
  }
  p.childCount++;
}

/** Removes C from P's children as the array did: the last child takes C's place. */
function removeChild(p: Node, c: Node): void {
  const first = p.firstChild!;
  const last = first.prevSibling!;
  if (c !== last) {
    // Unlink the last child (it is not the first: C comes before it), then put it where C is.
    const beforeLast = last.prevSibling!;
    beforeLast.nextSibling = null;
    first.prevSibling = beforeLast;
    const prev = c.prevSibling!;
    const next = c.nextSibling;
    last.prevSibling = prev;
    last.nextSibling = next;
    if (c === first) p.firstChild = last;
    else prev.nextSibling = last;
    if (next) next.prevSibling = last;
    else p.firstChild!.prevSibling = last;
  } else if (c === first) {
    p.firstChild = null;
  } else {
    const prev = c.prevSibling!;
    prev.nextSibling = null;
    first.prevSibling = prev;
  }
  c.nextSibling = null;
  c.prevSibling = null;
  p.childCount--;
}

function push<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key);
  if (list) list.push(value);
  else index.set(key, [value]);
}

class AppGraph {
  readonly users = new Map<string, Node>();
  readonly invitations = new Map<string, InvitationRecord>();
  /**
   * invite_id → nodes whose first sign-up named it while the invitation is unknown (lazy:
   * re-check node.inviteId on use); moved onto the invitation's record when it arrives.
   */
  readonly byInvite = new Map<string, Acceptors>();
  /** referrer id → nodes pending on that user's sign-up (lazy: re-check status on use). */
  readonly waitingFor = new Map<string, Node[]>();
  /** invite_id → sign-ups that named it before it was known (for the self-referral report). */
  readonly unresolved = new Map<string, SignupRef[]>();

  // Change tracking of the current apply.
  epoch = 0;
  changed: Node[] = [];
  moved: Node[] = [];
  invites = new Set<string>();
  selfReferrals: SignupRef[] = [];

  constructor(readonly appId: string) {}

  begin(epoch: number): void {
    this.epoch = epoch;
    this.changed = [];
    this.moved = [];
    this.invites = new Set();
    this.selfReferrals = [];
  }

  finish(): AppGraphChange {
    return {
      users: new Set(this.changed.map((n) => n.id)),
      moved: new Set(this.moved.map((n) => n.id)),
      invites: this.invites,
      self_referrals: this.selfReferrals,
    };
  }

  private mark(n: Node): void {
    if (n.marked >= 2 * this.epoch) return;
    n.marked = 2 * this.epoch;
    this.changed.push(n);
  }

  /** Marks a node whose chain of ancestors changed (also changed: its depth or root may have). */
  private markMoved(n: Node): void {
    this.mark(n);
    if (n.marked === 2 * this.epoch + 1) return;
    n.marked = 2 * this.epoch + 1;
    this.moved.push(n);
  }

  // ---- events ----

  invite(e: ViralEvent): void {
    this.invites.add(e.invite_id);
    const current = this.invitations.get(e.invite_id);
    if (current && !before(e.occurred_at, e.event_id, current.sent_at, current.event_id)) {
      // A duplicate of the winning event re-emits what it decided (core/processor.ts replay rule).
      if (current.event_id === e.event_id) for (const n of this.acceptors(e.invite_id)) this.markChain(n);
      return;
    }
    if (current) {
      const previousSender = current.sender_id;
      current.sender_id = e.user_id;
      current.sent_at = e.occurred_at;
      current.channel = e.channel;
      current.variant = e.variant;
      current.event_id = e.event_id;
      if (previousSender === e.user_id) return;
    } else {
      const waitingAcceptors = this.byInvite.get(e.invite_id);
      if (waitingAcceptors) this.byInvite.delete(e.invite_id);
      // app_id: the app's own string (equal to e.app_id), not this event's copy of it.
      this.invitations.set(e.invite_id, new InvitationRecord(this.appId, e.invite_id, e.user_id, e.occurred_at, e.channel, e.variant, e.event_id, waitingAcceptors));
    }
    for (const n of this.acceptors(e.invite_id)) this.relink(n, false);
    const waiting = this.unresolved.get(e.invite_id);
    if (waiting) {
      this.unresolved.delete(e.invite_id);
      for (const s of waiting) if (s.user_id === e.user_id) this.selfReferrals.push(s);
    }
  }

  signup(e: ViralEvent): void {
    if (e.invite_id !== '') this.invites.add(e.invite_id);
    const invitation = this.checkSelfReferral(e);
    // The invitation's key string when it is known, rather than this event's copy.
    const inviteId = invitation ? invitation.invite_id : e.invite_id;
    let n = this.users.get(e.user_id);
    if (!n) {
      n = this.newNode(e, inviteId);
      this.users.set(n.id, n);
      if (n.inviteId !== '') this.addAcceptor(n, invitation);
      this.relink(n, true);
      const waiting = this.waitingFor.get(n.id);
      if (waiting) {
        this.waitingFor.delete(n.id);
        for (const w of waiting) if (w.status === 'pending' && w.referrer === n.id) this.relink(w, false);
      }
    } else if (before(e.occurred_at, e.event_id, n.signupAt, n.signupEventId)) {
      const inviteChanged = e.invite_id !== n.inviteId;
      n.signupEventId = e.event_id;
      n.signupAt = e.occurred_at;
      n.inviteId = inviteId;
      n.namedReferrer = e.referrer_id;
      if (inviteChanged && n.inviteId !== '') this.addAcceptor(n, invitation);
      this.relink(n, true);
    } else if (e.event_id === n.signupEventId) {
      this.markChain(n);
    }
    this.mark(n);
  }

  /** design §5: every sign-up (first or later) whose resolved referrer is the user themself. */
  /** Returns the invitation the sign-up names, if known. */
  private checkSelfReferral(e: ViralEvent): InvitationRecord | undefined {
    const ref: SignupRef = { app_id: e.app_id, user_id: e.user_id, event_id: e.event_id, occurred_at: e.occurred_at };
    const invitation = e.invite_id === '' ? undefined : this.invitations.get(e.invite_id);
    if (e.invite_id !== '' && !invitation) push(this.unresolved, e.invite_id, ref);
    if ((invitation ? invitation.sender_id : e.referrer_id) === e.user_id) this.selfReferrals.push(ref);
    return invitation;
  }

  /** Records N (whose first sign-up names N.inviteId) as an acceptor of that invitation. */
  private addAcceptor(n: Node, invitation: InvitationRecord | undefined): void {
    if (invitation) invitation.acceptors = withAcceptor(invitation.acceptors, n);
    else this.byInvite.set(n.inviteId, withAcceptor(this.byInvite.get(n.inviteId), n));
  }

  private newNode(e: ViralEvent, inviteId: string): Node {
    return {
      id: e.user_id,
      signupEventId: e.event_id,
      signupAt: e.occurred_at,
      inviteId,
      namedReferrer: e.referrer_id,
      referrer: '',
      status: 'root',
      parent: null,
      firstChild: null,
      nextSibling: null,
      prevSibling: null,
      childCount: 0,
      depth: 0,
      root: null,
      descendants: 0,
      subtreeDepth: 0,
      level2: 0,
      level3: 0,
      marked: -1,
    };
  }

  acceptors(inviteId: string): Node[] {
    const list = this.invitations.get(inviteId)?.acceptors ?? this.byInvite.get(inviteId);
    if (!list) return [];
    if (!Array.isArray(list)) return list.inviteId === inviteId ? [list] : [];
    return [...new Set(list)].filter((n) => n.inviteId === inviteId);
  }

  // ---- the edge of one user ----

  /** The edge's referrer and kind; `invitation` when the referrer is its sender. */
  private resolve(n: Node): { referrer: string; category: Category; invitation: InvitationRecord | undefined } {
    const invitation = n.inviteId === '' ? undefined : this.invitations.get(n.inviteId);
    const referrer = invitation ? invitation.sender_id : n.namedReferrer;
    if (referrer === '') return { referrer, category: n.inviteId === '' ? 'root' : 'pending', invitation };
    if (referrer === n.id) return { referrer, category: 'self_referral', invitation };
    return { referrer, category: this.users.has(referrer) ? 'edge' : 'pending', invitation };
  }

  /**
   * Brings U's edge in line with its current first sign-up and invitation. `keyChanged`: U's
   * first-sign-up time changed (or U is new), which can change which edge of U's cycle loses.
   */
  private relink(u: Node, keyChanged: boolean): void {
    const { referrer, category, invitation } = this.resolve(u);
    const fresh = u.marked === -1;
    if (!fresh && referrer === u.referrer && category === categoryOf(u.status) && (!keyChanged || !this.onCycle(u))) {
      this.mark(u);
      return;
    }
    const reparented: Node[] = [];
    this.removeEdge(u, reparented);
    u.referrer = referrer;
    this.addEdge(u, category, reparented, invitation);
    this.refresh(reparented);
  }

  /** U's candidate edge lies on its component's cycle (U's edge accepted or rejected). */
  private onCycle(u: Node): boolean {
    if (u.status === 'cycle') return true;
    if (u.status !== 'accepted') return false;
    const top = this.top(u);
    return top.status === 'cycle' && this.isWithin(this.users.get(top.referrer)!, u);
  }

  private top(n: Node): Node {
    while (n.parent) n = n.parent;
    return n;
  }

  /** `n` is `ancestor` or below it along accepted edges. */
  private isWithin(n: Node | null, ancestor: Node): boolean {
    for (; n; n = n.parent) if (n === ancestor) return true;
    return false;
  }

  private removeEdge(u: Node, reparented: Node[]): void {
    // Without an accepted edge there is nothing to undo: a `cycle` user's edge was the rejected
    // one, so dropping it breaks the cycle and every other edge of it stays accepted.
    if (!u.parent) return;
    const top = this.top(u);
    this.cut(u);
    // U's edge was on the cycle whose rejected edge is top's: that edge no longer closes a cycle.
    if (top.status === 'cycle') {
      const parent = this.users.get(top.referrer)!;
      if (this.isWithin(parent, u)) {
        this.link(top, parent);
        top.status = 'accepted';
        reparented.push(top);
      }
    }
  }

  private addEdge(u: Node, category: Category, reparented: Node[], invitation: InvitationRecord | undefined): void {
    reparented.push(u);
    if (category !== 'edge') {
      u.status = category;
      if (category === 'pending' && u.referrer !== '') push(this.waitingFor, u.referrer, u);
      return;
    }
    const parent = this.users.get(u.referrer)!;
    // Keep one copy of the referrer's id: the strings are equal, the parent's is shared by all.
    u.referrer = parent.id;
    if (invitation) invitation.sender_id = parent.id;
    else u.namedReferrer = parent.id;
    // Walk up from the new parent: reaching U means the edge closes a cycle (U is a root now, so
    // its in-tree holds only accepted edges and the walk along them finds it).
    let latest = u;
    let x: Node | null = parent;
    for (; x && x !== u; x = x.parent) if (later(x, latest)) latest = x;
    if (!x) {
      this.link(u, parent);
      u.status = 'accepted';
    } else if (latest === u) {
      u.status = 'cycle';
    } else {
      this.cut(latest);
      latest.status = 'cycle';
      reparented.push(latest);
      this.link(u, parent);
      u.status = 'accepted';
    }
  }

  // ---- structure and subtree statistics ----

  /** Hangs X (a structural root) under P; updates P's chain: descendants, subtree_depth, levels. */
  private link(x: Node, p: Node): void {
    x.parent = p;
    appendChild(p, x);
    const size = x.descendants + 1;
    let height = x.subtreeDepth + 1;
    let dist = 0;
    for (let a: Node | null = p; a; a = a.parent, dist++, height++) {
      a.descendants += size;
      if (height > a.subtreeDepth) a.subtreeDepth = height;
      if (dist === 0) {
        a.level2 += x.childCount;
        a.level3 += x.level2;
      } else if (dist === 1) {
        a.level2 += 1;
        a.level3 += x.childCount;
      } else if (dist === 2) a.level3 += 1;
      this.mark(a);
    }
  }

  /** Detaches X from its parent; the inverse of link. */
  private cut(x: Node): void {
    const p = x.parent!;
    removeChild(p, x);
    x.parent = null;
    const size = x.descendants + 1;
    let height = x.subtreeDepth + 1;
    let heightMayDrop = true;
    let dist = 0;
    for (let a: Node | null = p; a; a = a.parent, dist++, height++) {
      a.descendants -= size;
      if (dist === 0) {
        a.level2 -= x.childCount;
        a.level3 -= x.level2;
      } else if (dist === 1) {
        a.level2 -= 1;
        a.level3 -= x.childCount;
      } else if (dist === 2) a.level3 -= 1;
      if (heightMayDrop) {
        // Only an ancestor whose deepest branch ran through X can get shallower.
        const h = a.subtreeDepth === height ? this.heightFromChildren(a) : a.subtreeDepth;
        heightMayDrop = h !== a.subtreeDepth;
        a.subtreeDepth = h;
      }
      this.mark(a);
    }
  }

  private heightFromChildren(a: Node): number {
    let h = 0;
    for (let c = a.firstChild; c; c = c.nextSibling) if (c.subtreeDepth + 1 > h) h = c.subtreeDepth + 1;
    return h;
  }

  /**
   * Recomputes depth and root below every re-parented node (top-most first, each subtree once)
   * and records the subtree as moved: its chain of ancestors changed.
   */
  private refresh(reparented: Node[]): void {
    const starts = new Set(reparented);
    // Top-down: a start below another start lies in the subtree refreshed before it (its proper
    // ancestor has a smaller level, so it comes first), so it is skipped: each subtree once.
    const order: { n: Node; d: number; covered: boolean }[] = [];
    for (const n of starts) {
      let d = 0;
      let covered = false;
      for (let a = n.parent; a; a = a.parent) {
        d++;
        if (starts.has(a)) covered = true;
      }
      order.push({ n, d, covered });
    }
    order.sort((a, b) => a.d - b.d);
    for (const { n: start, covered } of order) {
      if (covered) continue;
      const stack = [start];
      while (stack.length) {
        const n = stack.pop()!;
        const p = n.parent;
        if (p) {
          n.depth = p.depth < 0 ? -1 : p.depth + 1;
          n.root = p.root;
        } else if (n.status === 'pending') {
          n.depth = -1;
          n.root = null;
        } else {
          n.depth = 0;
          n.root = n;
        }
        this.markMoved(n);
        for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c);
      }
    }
  }

  /**
   * Re-emit everything a first sign-up or invitation decided, for a duplicate of the deciding
   * event: the node and its subtree (depth, root, chain: as moved) and its ancestors (statistics).
   */
  private markChain(n: Node): void {
    for (let a = n.parent; a; a = a.parent) this.mark(a);
    const stack = [n];
    while (stack.length) {
      const x = stack.pop()!;
      this.markMoved(x);
      for (let c = x.firstChild; c; c = c.nextSibling) stack.push(c);
    }
  }

  // ---- views ----

  view(n: Node): ReferralNode {
    return {
      app_id: this.appId,
      user_id: n.id,
      signup_event_id: n.signupEventId,
      signup_at: n.signupAt,
      invite_id: n.inviteId,
      referrer_id: n.referrer,
      status: n.status,
      depth: n.depth < 0 ? null : n.depth,
      root_id: n.root ? n.root.id : null,
      direct_referrals: n.childCount,
      descendants: n.descendants,
      subtree_depth: n.subtreeDepth,
      indirect_referrals: n.level2 + n.level3,
    };
  }
}

/**
 * A consumer of graph changes (a processor that reads the graph after it applied a batch).
 * `drain()` returns everything that changed since the previous drain, so a processor that runs
 * after the graph processor in the same batch sees exactly that batch's change, and one whose
 * batch was re-applied event by event (poison isolation) still sees all of it.
 */
export interface GraphSubscription {
  drain(): GraphChange;
}

/**
 * The referral graph of every app. `apply` folds a batch of events (only `invite_sent` and
 * `signup` matter; others are ignored) and returns what changed; the read methods answer from
 * the current state.
 */
export class ReferralGraph {
  private readonly apps = new Map<string, AppGraph>();
  private readonly subscribers: { pending: GraphChange | null }[] = [];
  private epoch = 0;

  /**
   * Folds the events; order independent (see the file header). Returns every user whose node or
   * subtree statistics changed or whose own sign-up is in the batch (duplicates included,
   * core/processor.ts), the users whose chain of ancestors changed, the invitations touched, and
   * the self-referring sign-ups detected (first or later ones, design §5).
   */
  apply(events: readonly ViralEvent[]): GraphChange {
    const epoch = ++this.epoch;
    const touched = new Map<string, AppGraph>();
    const app = (appId: string): AppGraph => {
      let g = touched.get(appId);
      if (!g) {
        g = this.apps.get(appId);
        if (!g) {
          g = new AppGraph(appId);
          this.apps.set(appId, g);
        }
        g.begin(epoch);
        touched.set(appId, g);
      }
      return g;
    };
    // Invitations first: a sign-up in the same batch then resolves its referrer directly.
    for (const e of events) if (e.type === 'invite_sent' && e.invite_id !== '') app(e.app_id).invite(e);
    for (const e of events) if (e.type === 'signup') app(e.app_id).signup(e);

    const change: GraphChange = { users: new Set(), apps: new Map(), self_referrals: [] };
    for (const [appId, g] of touched) {
      const c = g.finish();
      change.apps.set(appId, c);
      for (const u of c.users) change.users.add(userKey(appId, u));
      for (const s of c.self_referrals) change.self_referrals.push(s);
    }
    for (const s of this.subscribers) s.pending = s.pending ? mergeChanges(s.pending, change) : change;
    return change;
  }

  /** Registers a consumer of changes; see GraphSubscription. */
  subscribe(): GraphSubscription {
    const s: { pending: GraphChange | null } = { pending: null };
    this.subscribers.push(s);
    return {
      drain: () => {
        const c = s.pending ?? { users: new Set<string>(), apps: new Map(), self_referrals: [] };
        s.pending = null;
        return c;
      },
    };
  }

  node(appId: string, userId: string): ReferralNode | undefined {
    const g = this.apps.get(appId);
    const n = g?.users.get(userId);
    return n && g!.view(n);
  }

  /** The invitation (its earliest `invite_sent`); read-only for callers, updated in place. */
  invitation(appId: string, inviteId: string): Invitation | undefined {
    return this.apps.get(appId)?.invitations.get(inviteId);
  }

  /** Users whose first sign-up names the invitation (any status). */
  acceptors(appId: string, inviteId: string): ReferralNode[] {
    const g = this.apps.get(appId);
    return g ? g.acceptors(inviteId).map((n) => g.view(n)) : [];
  }

  /** Direct referrals (accepted edges) of the user. */
  children(appId: string, userId: string): string[] {
    const out: string[] = [];
    for (let c = this.apps.get(appId)?.users.get(userId)?.firstChild; c; c = c.nextSibling) out.push(c.id);
    return out;
  }

  /** The accepted chain above the user, nearest first, at most `maxDepth` entries. */
  ancestors(appId: string, userId: string, maxDepth = Infinity): string[] {
    const out: string[] = [];
    for (let a = this.apps.get(appId)?.users.get(userId)?.parent; a && out.length < maxDepth; a = a.parent) out.push(a.id);
    return out;
  }

  /** design §5 indirect_referrals (descendants 2 or 3 levels below); undefined if not signed up. */
  indirectReferrals(appId: string, userId: string): number | undefined {
    const n = this.apps.get(appId)?.users.get(userId);
    return n && n.level2 + n.level3;
  }

  /** Accepted parent of the user, '' if none (root, pending, rejected, unknown). */
  parentOf(appId: string, userId: string): string {
    return this.apps.get(appId)?.users.get(userId)?.parent?.id ?? '';
  }

  /** Every signed-up user of the app (for chain statistics and tests). */
  *nodes(appId: string): IterableIterator<ReferralNode> {
    const g = this.apps.get(appId);
    if (g) for (const n of g.users.values()) yield g.view(n);
  }

  appIds(): string[] {
    return [...this.apps.keys()];
  }
}

function mergeChanges(a: GraphChange, b: GraphChange): GraphChange {
  const out: GraphChange = { users: new Set([...a.users, ...b.users]), apps: new Map(a.apps), self_referrals: [...a.self_referrals, ...b.self_referrals] };
  for (const [appId, c] of b.apps) {
    const prev = out.apps.get(appId);
    out.apps.set(
      appId,
      prev
        ? {
            users: new Set([...prev.users, ...c.users]),
            moved: new Set([...prev.moved, ...c.moved]),
            invites: new Set([...prev.invites, ...c.invites]),
            self_referrals: [...prev.self_referrals, ...c.self_referrals],
          }
        : c,
    );
  }
  return out;
}
