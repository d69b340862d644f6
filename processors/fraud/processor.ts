// The fraud processor (design §5 "Fraud signals", issue 4 item 4): folds events into the state the
// six rules of ./rules need and upserts `viral.fraud_signals`. It runs after the referral-graph
// processor on the same batch and reads the graph through FraudGraphView.
//
// Order independence (core/processor.ts). Every piece of state is a duplicate-tolerant fold
// (earliest stamp per invitation, per reward, per user on a device; sets of devices), and for every
// user or device an event touches the rules are recomputed from that state and reconciled with
// what was emitted before, per scope (a user's signals of one kind, or one device's device_reuse).
// A signal's identity — (app, user, signal, event_id), the table's key — is the event that proves
// it, and detected_at is that event's time. When a late event changes which event that is (an
// earlier first sign-up breaks a ring, an earlier invitation moves the first over-threshold span,
// an earlier invite_sent changes an invitation's sender or send time), the old key is re-emitted
// with retracted = 1. So the rows with retracted = 0 are exactly the signals of a batch computation
// over the final event set, for any arrival order, batch split or replay. One bounded exception:
// the population statistics recorded in invite_velocity evidence are those of the evaluation that
// (re)established the signal; the decision itself is re-taken whenever the population changes.
//
// Cost. Almost every event comes from a clean user, and runs on every batch of the hot loop, so
// that path is kept cheap: state lives in per-app and per-user objects (no app␀user keys built or
// split per event), work sets are reused between applies, a clean user's reconcile is O(1)
// without allocation, and signal sets are compared as bit masks.
import { type Processor, type RowBatch, rowVersion } from '../../core/processor.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { HOUR_MS } from '../../core/time.ts';
import { oneOrMapForEach, oneOrMapGet, oneOrMapSet, oneOrMapValues, type OneOrMap } from '../../core/one-or-map.ts';
import type { Invitation, UserNode } from '../referral-graph/types.ts';
import { type FraudConfig, resolveFraudConfig } from './config.ts';
import { type Detection, type FraudSignalRow, type SignalName, type Stamp, SIGNALS, compareStamps, earlier } from './types.ts';
import { firstCrossing } from './window.ts';
import { type DeviceSignup, deviceReuse } from './rules/device-reuse.ts';
import { fastConversion } from './rules/fast-conversion.ts';
import { inviteVelocity, populationStats, velocityLimit, type PopulationStats } from './rules/invite-velocity.ts';
import { findCycle, referralCycle } from './rules/referral-cycle.ts';
import { type Claim, rewardGaming } from './rules/reward-gaming.ts';
import { type SignupFact, resolveReferrer, selfReferral } from './rules/self-referral.ts';

export const FRAUD_SIGNALS_TABLE = 'fraud_signals';

/** What the fraud processor reads from the referral graph (ReferralGraph in processors/referral-graph/graph.ts fits). */
export interface FraudGraphView {
  node(appId: string, userId: string): UserNode | undefined;
  invitation(appId: string, inviteId: string): Invitation | undefined;
}

/** A user whose set of signals changed in the last apply (super-connector quality follows it). */
export interface FlagChange {
  app_id: string;
  user_id: string;
  /** Signals gained, sorted. */
  added: SignalName[];
  /** Signals lost (every row of that signal retracted), sorted. */
  removed: SignalName[];
}

export interface FraudProcessor extends Processor {
  /** True when the user carries any signal other than `except` (§5 reward_gaming, super-connector quality). */
  isFlagged(appId: string, userId: string, except?: SignalName): boolean;
  /** The user's current distinct signals, sorted. */
  signalsOf(appId: string, userId: string): SignalName[];
  /** Users whose signals changed in the last `apply`. */
  flagChanges(): readonly FlagChange[];
}

interface InviteLog {
  /** invite_id → earliest invite_sent of this user for it. */
  byInvite: Map<string, Stamp>;
  /** UTC hour start → distinct invitations in it (the user's population cells). */
  hours: Map<number, number>;
  /** byInvite sorted by compareStamps; null after a change. */
  sorted: Stamp[] | null;
  /** The span limit of the last evaluation; null after a change (then it must be re-evaluated). */
  evaluatedLimit: number | null;
}

interface Stored {
  app_id: string;
  detection: Detection;
  retracted: boolean;
  /** JSON of detection.evidence once emitted: a held row is re-emitted whenever its user is touched. */
  evidenceJson: string | null;
}

/**
 * One user of one app: what the rules fold for them and their signal rows. Each part stays null
 * until an event needs it. Work sets hold these objects, so the batch loop never builds or splits
 * app␀user keys.
 */
interface UserState {
  readonly app: AppState;
  readonly id: string;
  /**
   * The user's sign-ups: the only one itself (most users sign up once), or event_id → sign-up once
   * there is a second. A Map of one entry costs ~180 bytes, and this state is kept for every user.
   */
  signups: OneOrMap<SignupFact> | null;
  /**
   * Devices on any of the user's events: most events find their device here rather than in the
   * app's map of every device. The only one itself (most users), or hash → device.
   */
  devices: OneOrMap<DeviceState> | null;
  /** Invitations sent. */
  invites: InviteLog | null;
  /** reward_id → earliest claim. */
  claims: Map<string, Claim> | null;
  /** signal␀event_id → row state; null while the user never had a signal (most users). */
  signals: Map<string, Stored> | null;
  /** Number of the last apply that put the user on its emit list (so no per-apply Set). */
  emittedIn: number;
  /** Number of the last apply that recorded heldBefore. */
  recordedIn: number;
  /** Held signals (SIGNAL_BIT mask) before that apply's first reconcile of the user. */
  heldBefore: number;
}

/** A user's earliest sign-up on a device, with the user's state. */
interface DeviceUser extends DeviceSignup {
  readonly user: UserState;
}

interface DeviceState {
  readonly app: AppState;
  readonly hash: string;
  /**
   * Each user's earliest sign-up on this device, by user id: the only one itself (most devices),
   * or a Map from the second user; null until someone signs up on it.
   */
  signups: OneOrMap<DeviceUser> | null;
}

const hashOf = (d: DeviceState) => d.hash;
const eventIdOf = (s: SignupFact) => s.event_id;
const idOf = (u: UserState) => u.id;
const signerOf = (s: DeviceUser) => s.user_id;

interface AppState {
  readonly id: string;
  users: Map<string, UserState>;
  /** Device hash → device, for every device seen. */
  devices: Map<string, DeviceState>;
  /** invite_id → users whose sign-up names it: the only one itself (most invitations), or a Map by user id. */
  acceptors: Map<string, OneOrMap<UserState>>;
  /** Hourly invitation count → cells with that count. */
  histogram: Map<number, number>;
  /** Users with a span above velocityMaxInvites. */
  velocityCandidates: Set<UserState>;
  /** Population statistics, computed at most once per apply (the one numbered statsIn). */
  stats: PopulationStats | null;
  statsIn: number;
  /** Graph readers for the ring walk, made once per app rather than on every walk. */
  referrerOf: (userId: string) => string | undefined;
  nodeOf: (userId: string) => UserNode | undefined;
}

const SEP = '\u0000';
const keyOf = (d: Detection) => d.signal + SEP + d.event_id;
/** Sets of signals as bit masks: the before/after comparison of every reconciled user allocates nothing. */
const SIGNAL_BIT = Object.fromEntries(SIGNALS.map((s, i) => [s, 1 << i])) as Record<SignalName, number>;
const SORTED_SIGNALS: readonly SignalName[] = [...SIGNALS].sort();
/** Shared "nothing computed" argument of reconcile (never mutated). */
const NO_DETECTIONS: readonly Detection[] = [];

/** The signals of `mask`, sorted. */
function signalNames(mask: number): SignalName[] {
  const out: SignalName[] = [];
  if (mask !== 0) for (const s of SORTED_SIGNALS) if ((mask & SIGNAL_BIT[s]) !== 0) out.push(s);
  return out;
}

/** The user's held (not retracted) signals as a mask. */
function heldMask(user: UserState): number {
  let mask = 0;
  if (user.signals !== null) for (const s of user.signals.values()) if (!s.retracted) mask |= SIGNAL_BIT[s.detection.signal];
  return mask;
}

/**
 * Whether the stamp (at, eventId) replaces `than` in the earlier() fold, i.e. compareStamps(new,
 * than) < 0 — decided before allocating the new stamp, which most duplicates never need.
 */
function replaces(at: number, eventId: string, than: Stamp | undefined): boolean {
  if (than === undefined) return true;
  const dt = at - than.at;
  return dt ? dt < 0 : eventId < than.event_id; // compareStamps: `a.at - b.at || event_id order`
}

/**
 * Creates the fraud processor over `graph` (which must already have applied the same batch).
 * `apply` returns the current rows (held and retracted) of every user an event touched and of
 * every user whose signals it changed (co-users of a device, acceptors of an invitation, ring
 * members). The config defaults are design §5's thresholds.
 */
export function createFraudProcessor(graph: FraudGraphView, overrides: Partial<FraudConfig> = {}): FraudProcessor {
  const cfg = resolveFraudConfig(overrides);
  const apps = new Map<string, AppState>();
  let changes: FlagChange[] = [];

  // Per-apply work, kept between applies and emptied at the start of each (no allocation per
  // apply). Every set is iterated in insertion order, which fixes the order of the rows and of
  // the flag changes. emitList and recordedList are sets too: a user joins at most once per apply,
  // guarded by the apply number stamped on the user.
  let applyNo = 0;
  const emitList: UserState[] = []; // users whose rows are re-emitted
  const recordedList: UserState[] = []; // users reconciled (their heldBefore is this apply's)
  const signupUsers = new Set<UserState>(); // sign-up rules and ring walk to re-run
  const touchedDevices = new Set<DeviceState>(); // device_reuse to re-run
  const velocityWork = new Set<UserState>(); // invite_velocity to re-run
  const populationChanged = new Set<AppState>();
  const ringWork = new Set<UserState>();
  const ringDone = new Set<UserState>();

  function appOf(appId: string): AppState {
    let app = apps.get(appId);
    if (app === undefined) {
      app = {
        id: appId,
        users: new Map(),
        devices: new Map(),
        acceptors: new Map(),
        histogram: new Map(),
        velocityCandidates: new Set(),
        stats: null,
        statsIn: 0,
        referrerOf: (u) => graph.node(appId, u)?.referrer_id || undefined,
        nodeOf: (u) => graph.node(appId, u),
      };
      apps.set(appId, app);
    }
    return app;
  }

  function userOf(app: AppState, userId: string): UserState {
    let user = app.users.get(userId);
    if (user === undefined) {
      user = { app, id: userId, signups: null, devices: null, invites: null, claims: null, signals: null, emittedIn: 0, recordedIn: 0, heldBefore: 0 };
      app.users.set(userId, user);
    }
    return user;
  }

  /** The device of `hash` on the user's event (recorded as one of the user's devices). */
  function deviceOf(user: UserState, hash: string): DeviceState {
    let device = oneOrMapGet(user.devices, hash, hashOf);
    if (device === undefined) {
      const app = user.app;
      device = app.devices.get(hash);
      if (device === undefined) app.devices.set(hash, (device = { app, hash, signups: null }));
      user.devices = oneOrMapSet(user.devices, hash, device, hashOf);
    }
    return device;
  }

  function emit(user: UserState): void {
    if (user.emittedIn === applyNo) return;
    user.emittedIn = applyNo;
    emitList.push(user);
  }

  function statsOf(app: AppState): PopulationStats {
    if (app.stats === null || app.statsIn !== applyNo) {
      app.stats = populationStats(app.histogram);
      app.statsIn = applyNo;
    }
    return app.stats;
  }

  function addCell(app: AppState, log: InviteLog, hour: number, delta: 1 | -1): void {
    const histogram = app.histogram;
    const before = log.hours.get(hour) ?? 0;
    const after = before + delta;
    if (before > 0) histogram.set(before, (histogram.get(before) ?? 0) - 1);
    if (after > 0) {
      histogram.set(after, (histogram.get(after) ?? 0) + 1);
      log.hours.set(hour, after);
    } else log.hours.delete(hour);
  }

  /** Folds an invite_sent; true when the user's invitation set changed. */
  function foldInvite(e: ViralEvent, user: UserState): boolean {
    const log = (user.invites ??= { byInvite: new Map<string, Stamp>(), hours: new Map<number, number>(), sorted: null, evaluatedLimit: null });
    const prev = log.byInvite.get(e.invite_id);
    if (!replaces(e.occurred_at, e.event_id, prev)) return false;
    const next: Stamp = { at: e.occurred_at, event_id: e.event_id };
    if (prev) addCell(user.app, log, Math.floor(prev.at / HOUR_MS), -1);
    addCell(user.app, log, Math.floor(next.at / HOUR_MS), 1);
    log.byInvite.set(e.invite_id, next);
    log.sorted = null;
    log.evaluatedLimit = null;
    return true;
  }

  /**
   * Makes the stored signals of one scope — the user's rows of `signal`, only those of device
   * `deviceHash` when given — equal `computed`: new and changed rows are held, rows no longer
   * computed are retracted. O(1) and allocation-free for a clean user who stays clean.
   */
  function reconcile(user: UserState, signal: SignalName, computed: readonly Detection[], deviceHash?: string): void {
    if (user.recordedIn !== applyNo) {
      user.recordedIn = applyNo;
      user.heldBefore = heldMask(user);
      recordedList.push(user);
    }
    emit(user);
    if (user.signals === null && computed.length === 0) return; // the common case: a clean user stays clean
    const mine = (user.signals ??= new Map<string, Stored>());
    const keys = computed.map(keyOf);
    const wanted = keys.length > 0 ? new Set(keys) : null;
    for (const [k, s] of mine) {
      const d = s.detection;
      if (d.signal === signal && !wanted?.has(k) && (deviceHash === undefined || d.evidence.device_hash === deviceHash)) s.retracted = true;
    }
    for (let i = 0; i < computed.length; i++) mine.set(keys[i], { app_id: user.app.id, detection: computed[i], retracted: false, evidenceJson: null });
  }

  function evaluateVelocity(user: UserState): void {
    const log = user.invites;
    if (!log || log.byInvite.size <= cfg.velocityMaxInvites) return;
    log.sorted ??= [...log.byInvite.values()].sort(compareStamps);
    if (!firstCrossing(log.sorted, cfg.velocitySpanMs, cfg.velocityMaxInvites)) return;
    user.app.velocityCandidates.add(user);
    const stats = statsOf(user.app);
    const limit = velocityLimit(stats, cfg);
    // Same invitations and same limit → same first crossing: nothing to re-decide.
    if (log.evaluatedLimit === limit) return;
    log.evaluatedLimit = limit;
    const d = inviteVelocity(user.id, log.sorted, stats, cfg);
    // A burst already held keeps the statistics it was judged by, so replays do not rewrite it.
    const prev = d && user.signals?.get(keyOf(d));
    if (d && prev && !prev.retracted) d.evidence.population = prev.detection.evidence.population;
    reconcile(user, 'invite_velocity', d ? [d] : NO_DETECTIONS);
  }

  // The devices of the referrer selfReferral is asking about; one predicate for the processor's
  // life instead of a closure per sign-up evaluated.
  let referrerDevices: UserState['devices'] = null;
  const referrerUsedDevice = (hash: string) => oneOrMapGet(referrerDevices, hash, hashOf) !== undefined;

  /** self_referral and fast_conversion of each of the user's sign-ups. */
  function evaluateSignups(user: UserState): void {
    let self: Detection[] | null = null;
    let fast: Detection[] | null = null;
    if (user.signups !== null) {
      const signups = oneOrMapValues(user.signups);
      let first: SignupFact | undefined;
      for (const s of signups) first = first === undefined ? s : earlier(first, s);
      for (const s of signups) {
        const invitation = s.invite_id !== '' ? graph.invitation(user.app.id, s.invite_id) : undefined;
        const referrer = resolveReferrer(s, invitation);
        if (referrer) {
          referrerDevices = user.app.users.get(referrer.referrer_id)?.devices ?? null;
          const d = selfReferral(s, referrer, s === first, referrerUsedDevice);
          referrerDevices = null;
          if (d) (self ??= []).push(d);
        }
        const f = invitation ? fastConversion(s, invitation, cfg) : null;
        if (f) (fast ??= []).push(f);
      }
    }
    reconcile(user, 'self_referral', self ?? NO_DETECTIONS);
    reconcile(user, 'fast_conversion', fast ?? NO_DETECTIONS);
  }

  function apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    applyNo++;
    emitList.length = 0;
    recordedList.length = 0;
    for (const s of [signupUsers, touchedDevices, velocityWork, populationChanged, ringWork, ringDone]) s.clear();

    for (const e of events) {
      const app = appOf(e.app_id);
      const user = userOf(app, e.user_id);
      emit(user);
      const device = e.device_hash !== '' ? deviceOf(user, e.device_hash) : null;
      // The actor may be the referrer of someone who signed up on this device (shared device).
      if (device?.signups) oneOrMapForEach(device.signups, (s) => signupUsers.add(s.user));
      switch (e.type) {
        case 'signup': {
          const fact: SignupFact = { at: e.occurred_at, event_id: e.event_id, user_id: e.user_id, invite_id: e.invite_id, referrer_id: e.referrer_id, device_hash: e.device_hash };
          user.signups = oneOrMapSet(user.signups, e.event_id, fact, eventIdOf);
          signupUsers.add(user);
          if (e.invite_id !== '') app.acceptors.set(e.invite_id, oneOrMapSet(app.acceptors.get(e.invite_id), user.id, user, idOf));
          if (device) {
            if (replaces(e.occurred_at, e.event_id, oneOrMapGet(device.signups, user.id, signerOf))) {
              device.signups = oneOrMapSet(device.signups, user.id, { at: e.occurred_at, event_id: e.event_id, user_id: user.id, user }, signerOf);
            }
            touchedDevices.add(device);
          }
          break;
        }
        case 'invite_sent': {
          if (foldInvite(e, user)) populationChanged.add(app);
          velocityWork.add(user);
          // The invitation's sender and send time resolve its acceptances (self_referral, fast_conversion, rings).
          oneOrMapForEach(app.acceptors.get(e.invite_id), (u) => signupUsers.add(u));
          break;
        }
        case 'reward_claimed': {
          const mine = (user.claims ??= new Map<string, Claim>());
          if (replaces(e.occurred_at, e.event_id, mine.get(e.reward_id))) {
            mine.set(e.reward_id, { at: e.occurred_at, event_id: e.event_id, reward_id: e.reward_id, amount: e.amount, currency: e.currency });
          }
          break;
        }
        default:
          break;
      }
    }

    // invite_velocity: touched senders, and every candidate of an app whose population changed.
    for (const app of populationChanged) for (const u of app.velocityCandidates) velocityWork.add(u);
    for (const user of velocityWork) evaluateVelocity(user);

    // Sign-up rules, then rings: every ring through a touched user, and every ring a touched user
    // was in before (a changed first sign-up may have broken it).
    for (const user of signupUsers) {
      evaluateSignups(user);
      ringWork.add(user);
      if (user.signals === null) continue;
      for (const s of user.signals.values()) {
        if (s.detection.signal === 'referral_cycle' && !s.retracted) for (const m of s.detection.evidence.cycle as string[]) ringWork.add(userOf(user.app, m));
      }
    }
    for (const user of ringWork) {
      const app = user.app;
      const ring = findCycle(user.id, app.referrerOf);
      if (ring) {
        for (const d of referralCycle(ring, app.nodeOf)) {
          const member = userOf(app, d.user_id);
          if (ringDone.has(member)) continue;
          ringDone.add(member);
          reconcile(member, 'referral_cycle', [d]);
        }
      }
      if (!ringDone.has(user)) {
        ringDone.add(user);
        reconcile(user, 'referral_cycle', NO_DETECTIONS);
      }
    }

    for (const device of touchedDevices) {
      const onDevice = oneOrMapValues(device.signups).sort(compareStamps); // touched = signed up on
      const found = deviceReuse(device.hash, onDevice, cfg);
      // Every user of the device in sign-up order, with their detections (most devices have none).
      for (const s of onDevice) {
        const ds = found.length === 0 ? NO_DETECTIONS : found.filter((d) => d.user_id === s.user_id);
        reconcile(s.user, 'device_reuse', ds, device.hash);
      }
    }

    // reward_gaming last: it depends on every other signal of the claimer, including this batch's.
    // (reconcile below only re-emits the same user: the list does not grow while iterated.)
    for (const user of emitList) {
      if (user.claims === null) continue;
      const others = heldMask(user) & ~SIGNAL_BIT.reward_gaming;
      // Unflagged with no more claims than a burst needs: rewardGaming would find nothing.
      const found =
        others === 0 && user.claims.size <= cfg.rewardMaxClaims
          ? NO_DETECTIONS
          : rewardGaming(user.id, [...user.claims.values()].sort(compareStamps), signalNames(others), cfg);
      reconcile(user, 'reward_gaming', found);
    }

    changes = [];
    for (const user of recordedList) {
      const held = heldMask(user);
      if (held === user.heldBefore) continue;
      changes.push({ app_id: user.app.id, user_id: user.id, added: signalNames(held & ~user.heldBefore), removed: signalNames(user.heldBefore & ~held) });
    }

    const version = rowVersion(now);
    const rows: FraudSignalRow[] = [];
    for (const user of emitList) {
      if (user.signals === null) continue;
      for (const s of user.signals.values()) {
        const { app_id, detection: d, retracted } = s;
        rows.push({
          app_id,
          user_id: d.user_id,
          signal: d.signal,
          event_id: d.event_id,
          detected_at: Math.floor(d.at / 1000),
          evidence: (s.evidenceJson ??= JSON.stringify(d.evidence)),
          retracted: retracted ? 1 : 0,
          version,
        });
      }
    }
    return rows.length > 0 ? [{ table: FRAUD_SIGNALS_TABLE, rows: rows as unknown as Record<string, unknown>[] }] : [];
  }

  const stateOf = (appId: string, userId: string) => apps.get(appId)?.users.get(userId);

  return {
    name: 'fraud',
    apply,
    isFlagged(appId, userId, except) {
      const signals = stateOf(appId, userId)?.signals;
      if (signals) for (const s of signals.values()) if (!s.retracted && s.detection.signal !== except) return true;
      return false;
    },
    signalsOf(appId, userId) {
      const user = stateOf(appId, userId);
      return user ? signalNames(heldMask(user)) : [];
    },
    flagChanges: () => changes,
  };
}
