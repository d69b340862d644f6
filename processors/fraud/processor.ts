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
import { type Processor, type RowBatch, rowVersion } from '../../core/processor.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { HOUR_MS } from '../../core/time.ts';
import { type Invitation, type UserNode, userKey } from '../referral-graph/types.ts';
import { type FraudConfig, resolveFraudConfig } from './config.ts';
import { type Detection, type FraudSignalRow, type SignalName, type Stamp, compareStamps, earlier } from './types.ts';
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
}

const SEP = '\u0000';
const NONE: ReadonlySet<SignalName> = new Set();
const keyOf = (d: Detection) => d.signal + SEP + d.event_id;

/**
 * Creates the fraud processor over `graph` (which must already have applied the same batch).
 * `apply` returns the current rows (held and retracted) of every user an event touched and of
 * every user whose signals it changed (co-users of a device, acceptors of an invitation, ring
 * members). The config defaults are design §5's thresholds.
 */
export function createFraudProcessor(graph: FraudGraphView, overrides: Partial<FraudConfig> = {}): FraudProcessor {
  const cfg = resolveFraudConfig(overrides);

  const signups = new Map<string, Map<string, SignupFact>>(); // userKey → event_id → sign-up
  const acceptors = new Map<string, Set<string>>(); // app␀invite_id → users whose sign-up names it
  const devicesOf = new Map<string, Set<string>>(); // userKey → device hashes on any of their events
  const deviceSignups = new Map<string, Map<string, DeviceSignup>>(); // app␀device → user → earliest sign-up
  const invites = new Map<string, InviteLog>(); // userKey → invitations sent
  const histograms = new Map<string, Map<number, number>>(); // app → hourly count → cells
  const velocityCandidates = new Map<string, Set<string>>(); // app → users with a span above velocityMaxInvites
  const claims = new Map<string, Map<string, Claim>>(); // userKey → reward_id → earliest claim
  const signals = new Map<string, Map<string, Stored>>(); // userKey → signal␀event_id → row state
  let changes: FlagChange[] = [];

  function heldSignals(uk: string): Set<SignalName> {
    const out = new Set<SignalName>();
    for (const s of signals.get(uk)?.values() ?? []) if (!s.retracted) out.add(s.detection.signal);
    return out;
  }

  function addCell(appId: string, log: InviteLog, hour: number, delta: 1 | -1): void {
    const histogram = histograms.get(appId) ?? new Map<number, number>();
    histograms.set(appId, histogram);
    const before = log.hours.get(hour) ?? 0;
    const after = before + delta;
    if (before > 0) histogram.set(before, (histogram.get(before) ?? 0) - 1);
    if (after > 0) {
      histogram.set(after, (histogram.get(after) ?? 0) + 1);
      log.hours.set(hour, after);
    } else log.hours.delete(hour);
  }

  /** Folds an invite_sent; true when the user's invitation set changed. */
  function foldInvite(e: ViralEvent, uk: string): boolean {
    const log = invites.get(uk) ?? { byInvite: new Map<string, Stamp>(), hours: new Map<number, number>(), sorted: null, evaluatedLimit: null };
    invites.set(uk, log);
    const prev = log.byInvite.get(e.invite_id);
    const next = earlier(prev, { at: e.occurred_at, event_id: e.event_id });
    if (next === prev) return false;
    if (prev) addCell(e.app_id, log, Math.floor(prev.at / HOUR_MS), -1);
    addCell(e.app_id, log, Math.floor(next.at / HOUR_MS), 1);
    log.byInvite.set(e.invite_id, next);
    log.sorted = null;
    log.evaluatedLimit = null;
    return true;
  }

  function apply(events: readonly ViralEvent[], now: number): RowBatch[] {
    const emit = new Set<string>(); // userKey: users whose rows are re-emitted
    const signupUsers = new Set<string>(); // userKey: sign-up rules and ring walk to re-run
    const touchedDevices = new Set<string>(); // app␀device: device_reuse to re-run
    const velocityUsers = new Set<string>(); // userKey
    const populationChanged = new Set<string>(); // app
    const before = new Map<string, ReadonlySet<SignalName>>(); // userKey → held signals before this apply

    /**
     * Makes the stored signals of one scope — the user's rows of `signal` that `inScope` selects —
     * equal `computed`: new and changed rows are held, rows no longer computed are retracted.
     */
    function reconcile(appId: string, userId: string, signal: SignalName, computed: readonly Detection[], inScope: (d: Detection) => boolean = () => true): void {
      const uk = userKey(appId, userId);
      const stored = signals.get(uk);
      if (!before.has(uk)) before.set(uk, stored ? heldSignals(uk) : NONE);
      emit.add(uk);
      if (!stored && computed.length === 0) return; // the common case: a clean user stays clean
      const mine = stored ?? new Map<string, Stored>();
      signals.set(uk, mine);
      const wanted = new Map(computed.map((d) => [keyOf(d), d]));
      for (const [k, s] of mine) if (s.detection.signal === signal && !wanted.has(k) && inScope(s.detection)) s.retracted = true;
      for (const [k, d] of wanted) mine.set(k, { app_id: appId, detection: d, retracted: false });
    }

    function evaluateVelocity(appId: string, userId: string, limit: () => number, stats: () => PopulationStats): void {
      const uk = userKey(appId, userId);
      const log = invites.get(uk);
      const candidates = velocityCandidates.get(appId) ?? new Set<string>();
      velocityCandidates.set(appId, candidates);
      if (!log || log.byInvite.size <= cfg.velocityMaxInvites) return;
      log.sorted ??= [...log.byInvite.values()].sort(compareStamps);
      if (!firstCrossing(log.sorted, cfg.velocitySpanMs, cfg.velocityMaxInvites)) return;
      candidates.add(userId);
      // Same invitations and same limit → same first crossing: nothing to re-decide.
      if (log.evaluatedLimit === limit()) return;
      log.evaluatedLimit = limit();
      const d = inviteVelocity(userId, log.sorted, stats(), cfg);
      // A burst already held keeps the statistics it was judged by, so replays do not rewrite it.
      const prev = d && signals.get(uk)?.get(keyOf(d));
      if (d && prev && !prev.retracted) d.evidence.population = prev.detection.evidence.population;
      reconcile(appId, userId, 'invite_velocity', d ? [d] : []);
    }

    /** self_referral and fast_conversion of each of the user's sign-ups. */
    function evaluateSignups(appId: string, userId: string): void {
      const all = [...(signups.get(userKey(appId, userId))?.values() ?? [])];
      const first = all.length > 0 ? all.reduce((a, b) => earlier(a, b)) : undefined;
      const self: Detection[] = [];
      const fast: Detection[] = [];
      for (const s of all) {
        const invitation = s.invite_id !== '' ? graph.invitation(appId, s.invite_id) : undefined;
        const referrer = resolveReferrer(s, invitation);
        const usedBy = referrer ? devicesOf.get(userKey(appId, referrer.referrer_id)) : undefined;
        const d = selfReferral(s, referrer, s === first, (hash) => usedBy?.has(hash) ?? false);
        if (d) self.push(d);
        const f = invitation ? fastConversion(s, invitation, cfg) : null;
        if (f) fast.push(f);
      }
      reconcile(appId, userId, 'self_referral', self);
      reconcile(appId, userId, 'fast_conversion', fast);
    }

    for (const e of events) {
      const uk = userKey(e.app_id, e.user_id);
      emit.add(uk);
      if (e.device_hash !== '') {
        const mine = devicesOf.get(uk) ?? new Set<string>();
        devicesOf.set(uk, mine.add(e.device_hash));
        // The actor may be the referrer of someone who signed up on this device (shared device).
        for (const u of deviceSignups.get(e.app_id + SEP + e.device_hash)?.keys() ?? []) signupUsers.add(userKey(e.app_id, u));
      }
      switch (e.type) {
        case 'signup': {
          const mine = signups.get(uk) ?? new Map<string, SignupFact>();
          signups.set(uk, mine);
          mine.set(e.event_id, {
            at: e.occurred_at,
            event_id: e.event_id,
            user_id: e.user_id,
            invite_id: e.invite_id,
            referrer_id: e.referrer_id,
            device_hash: e.device_hash,
          });
          signupUsers.add(uk);
          if (e.invite_id !== '') {
            const ik = e.app_id + SEP + e.invite_id;
            acceptors.set(ik, (acceptors.get(ik) ?? new Set<string>()).add(e.user_id));
          }
          if (e.device_hash !== '') {
            const dk = e.app_id + SEP + e.device_hash;
            const onDevice = deviceSignups.get(dk) ?? new Map<string, DeviceSignup>();
            deviceSignups.set(dk, onDevice);
            onDevice.set(e.user_id, earlier(onDevice.get(e.user_id), { at: e.occurred_at, event_id: e.event_id, user_id: e.user_id }));
            touchedDevices.add(dk);
          }
          break;
        }
        case 'invite_sent': {
          if (foldInvite(e, uk)) populationChanged.add(e.app_id);
          velocityUsers.add(uk);
          // The invitation's sender and send time resolve its acceptances (self_referral, fast_conversion, rings).
          for (const u of acceptors.get(e.app_id + SEP + e.invite_id) ?? []) signupUsers.add(userKey(e.app_id, u));
          break;
        }
        case 'reward_claimed': {
          const mine = claims.get(uk) ?? new Map<string, Claim>();
          claims.set(uk, mine);
          mine.set(e.reward_id, earlier(mine.get(e.reward_id), { at: e.occurred_at, event_id: e.event_id, reward_id: e.reward_id, amount: e.amount, currency: e.currency }));
          break;
        }
        default:
          break;
      }
    }

    // invite_velocity: touched senders, and every candidate of an app whose population changed.
    const velocityWork = new Map<string, [string, string]>();
    for (const uk of velocityUsers) velocityWork.set(uk, uk.split(SEP) as [string, string]);
    for (const appId of populationChanged) for (const u of velocityCandidates.get(appId) ?? []) velocityWork.set(userKey(appId, u), [appId, u]);
    const statsCache = new Map<string, PopulationStats>();
    for (const [appId, userId] of velocityWork.values()) {
      const stats = () => {
        let s = statsCache.get(appId);
        if (!s) statsCache.set(appId, (s = populationStats(histograms.get(appId) ?? new Map())));
        return s;
      };
      evaluateVelocity(appId, userId, () => velocityLimit(stats(), cfg), stats);
    }

    // Sign-up rules, then rings: every ring through a touched user, and every ring a touched user
    // was in before (a changed first sign-up may have broken it).
    const ringWork = new Set<string>();
    for (const uk of signupUsers) {
      const [appId, userId] = uk.split(SEP);
      evaluateSignups(appId, userId);
      ringWork.add(uk);
      for (const s of signals.get(uk)?.values() ?? []) {
        if (s.detection.signal === 'referral_cycle' && !s.retracted) for (const m of s.detection.evidence.cycle as string[]) ringWork.add(userKey(appId, m));
      }
    }
    const ringDone = new Set<string>();
    for (const uk of ringWork) {
      const [appId, userId] = uk.split(SEP);
      const ring = findCycle(userId, (u) => graph.node(appId, u)?.referrer_id || undefined);
      const found = ring ? referralCycle(ring, (u) => graph.node(appId, u)) : [];
      for (const d of found) {
        const mk = userKey(appId, d.user_id);
        if (ringDone.has(mk)) continue;
        ringDone.add(mk);
        reconcile(appId, d.user_id, 'referral_cycle', [d]);
      }
      if (!ringDone.has(uk)) {
        ringDone.add(uk);
        reconcile(appId, userId, 'referral_cycle', []);
      }
    }

    for (const dk of touchedDevices) {
      const [appId, hash] = dk.split(SEP);
      const onDevice = [...(deviceSignups.get(dk)?.values() ?? [])].sort(compareStamps);
      const found = new Map<string, Detection[]>(onDevice.map((s) => [s.user_id, []]));
      for (const d of deviceReuse(hash, onDevice, cfg)) found.get(d.user_id)!.push(d);
      for (const [userId, ds] of found) reconcile(appId, userId, 'device_reuse', ds, (d) => d.evidence.device_hash === hash);
    }

    // reward_gaming last: it depends on every other signal of the claimer, including this batch's.
    for (const uk of emit) {
      const mine = claims.get(uk);
      if (!mine) continue;
      const [appId, userId] = uk.split(SEP);
      const others = [...heldSignals(uk)].filter((s) => s !== 'reward_gaming').sort();
      reconcile(appId, userId, 'reward_gaming', rewardGaming(userId, [...mine.values()].sort(compareStamps), others, cfg));
    }

    changes = [];
    for (const [uk, was] of before) {
      const now = heldSignals(uk);
      const added = [...now].filter((s) => !was.has(s)).sort();
      const removed = [...was].filter((s) => !now.has(s)).sort();
      if (added.length === 0 && removed.length === 0) continue;
      const [app_id, user_id] = uk.split(SEP);
      changes.push({ app_id, user_id, added, removed });
    }

    const version = rowVersion(now);
    const rows: FraudSignalRow[] = [];
    for (const uk of emit) {
      for (const { app_id, detection: d, retracted } of signals.get(uk)?.values() ?? []) {
        rows.push({
          app_id,
          user_id: d.user_id,
          signal: d.signal,
          event_id: d.event_id,
          detected_at: Math.floor(d.at / 1000),
          evidence: JSON.stringify(d.evidence),
          retracted: retracted ? 1 : 0,
          version,
        });
      }
    }
    return rows.length > 0 ? [{ table: FRAUD_SIGNALS_TABLE, rows: rows as unknown as Record<string, unknown>[] }] : [];
  }

  return {
    name: 'fraud',
    apply,
    isFlagged(appId, userId, except) {
      for (const s of signals.get(userKey(appId, userId))?.values() ?? []) if (!s.retracted && s.detection.signal !== except) return true;
      return false;
    },
    signalsOf: (appId, userId) => [...heldSignals(userKey(appId, userId))].sort(),
    flagChanges: () => changes,
  };
}
