// Test builders for the fraud processor (conventions §5: builders + tables). Not imported by
// production code.
import { emptyEvent, type ViralEvent } from '../../core/events/types.ts';
import { Random } from '../../core/demo/prng.ts';
import type { RowBatch } from '../../core/processor.ts';
import { ReferralGraph } from '../referral-graph/graph.ts';
import type { FraudConfig } from './config.ts';
import { type FraudProcessor, createFraudProcessor } from './processor.ts';

export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0); // a Monday, 09:00 UTC
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export type EventInput = Partial<ViralEvent> & Pick<ViralEvent, 'event_id' | 'type' | 'user_id' | 'occurred_at'>;

/** A normalized event with §3 defaults; app `a1` unless given. */
export function makeEvent(input: EventInput): ViralEvent {
  return { ...emptyEvent(), app_id: 'a1', received_at: input.occurred_at, ...input };
}

/** The fraud processor over the real referral graph, applied in pipeline order (graph first). */
export function pipeline(overrides: Partial<FraudConfig> = {}): { graph: ReferralGraph; fraud: FraudProcessor; apply(events: readonly ViralEvent[], now?: number): RowBatch[] } {
  const graph = new ReferralGraph();
  const fraud = createFraudProcessor(graph, overrides);
  return {
    graph,
    fraud,
    apply(events, now = T0) {
      graph.apply(events);
      return fraud.apply(events, now);
    },
  };
}

/**
 * Honest viral traffic (design §8 shape, no fraud): seed users invite in human sessions, invitees
 * open, click and sign up minutes to days later on their own devices, some buy, referrers claim a
 * reward per accepted referral. Kept deliberately busy near every threshold without crossing it:
 * power inviters send up to 45 invitations in an hour, households share a device between two
 * unrelated users, whole cohorts share one IP (NAT), some invitees sign up within a minute.
 */
export function honestTraffic(seed: number, targetUsers: number, appId = 'a1'): ViralEvent[] {
  const rng = new Random(seed);
  const out: ViralEvent[] = [];
  let seq = 0;
  const id = (p: string) => `${p}-${seed}-${++seq}`;
  const ips = Array.from({ length: 8 }, (_, i) => `ip-${i}`);
  const sharedDevices: string[] = [];
  const emit = (type: ViralEvent['type'], user: string, at: number, device: string, extra: Partial<ViralEvent> = {}) =>
    out.push(makeEvent({ app_id: appId, event_id: id('e'), type, user_id: user, occurred_at: Math.round(at), device_hash: device, ip_hash: rng.pick(ips), ...extra }));

  type Pending = { user: string; at: number; invite: string; referrer: string; referrerDevice: string };
  const queue: Pending[] = [];
  let users = 0;
  const join = (p: Pending) => {
    users++;
    // A household tablet: a second, unrelated user may sign up on a device one earlier user used.
    let device = `dev-${p.user}`;
    const shared = sharedDevices.length > 0 && rng.chance(0.05) ? rng.int(0, sharedDevices.length - 1) : -1;
    // Never the referrer's own device: that is §5 self_referral, not honest traffic.
    if (shared >= 0 && sharedDevices[shared] !== p.referrerDevice) device = sharedDevices.splice(shared, 1)[0];
    else if (rng.chance(0.1)) sharedDevices.push(device);
    emit('signup', p.user, p.at, device, p.invite ? { invite_id: p.invite, ...(rng.chance(0.2) ? { referrer_id: p.referrer } : {}) } : {});
    if (p.referrer) emit('reward_claimed', p.referrer, p.at + rng.uniform(HOUR, 2 * DAY), p.referrerDevice, { reward_id: id('r'), amount: 5, currency: 'USD' });
    if (rng.chance(0.2)) emit('purchase', p.user, p.at + rng.uniform(HOUR, 3 * DAY), '', { order_id: id('o'), amount: rng.int(5, 80), currency: 'USD' });
    const power = rng.chance(0.03);
    const sessions = power ? 1 : rng.int(0, 3);
    let t = p.at + rng.uniform(10 * MIN, 2 * DAY);
    for (let s = 0; s < sessions; s++) {
      const n = power ? rng.int(30, 45) : rng.count(0.6, 8);
      for (let i = 0; i < n; i++) {
        const sent = t + (power ? rng.uniform(0, 55 * MIN) : i * rng.uniform(20 * SEC, 5 * MIN));
        const invite = id('inv');
        emit('invite_sent', p.user, sent, device, { invite_id: invite, channel: rng.pick(['email', 'sms', 'whatsapp', 'link'] as const) });
        if (!rng.chance(power ? 0.15 : 0.35)) continue;
        const invitee = id('u');
        const opened = sent + rng.logNormal(40 * MIN, 1.5) + 5 * SEC;
        emit('invite_opened', invitee, opened, `dev-${invitee}`, { invite_id: invite });
        const signupAt = opened + 20 * SEC + rng.logNormal(3 * MIN, 1.2);
        // Some invitees were given a referral code as well: then referrer_id names the same sender.
        queue.push({ user: invitee, at: signupAt, invite, referrer: p.user, referrerDevice: device });
      }
      t += rng.uniform(6 * HOUR, 4 * DAY);
    }
  };
  const seeds = Math.max(20, Math.round(targetUsers / 15));
  for (let i = 0; i < seeds; i++) queue.push({ user: id('u'), at: T0 + rng.uniform(0, 2 * DAY), invite: '', referrer: '', referrerDevice: '' });
  while (queue.length > 0 && users < targetUsers) join(queue.shift()!);
  return out;
}

/** The signal set as `table ⋈ FINAL` would show it: the last row per key, version dropped. */
export function finalSignals(batches: readonly RowBatch[][]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const batch of batches) {
    for (const { rows } of batch) {
      for (const r of rows) {
        const { version: _version, ...rest } = r;
        out.set([r.app_id, r.user_id, r.signal, r.event_id].join('|'), rest);
      }
    }
  }
  return out;
}

/** Held signals (retracted = 0) as the API reads them, evidence parsed. */
export function held(batches: readonly RowBatch[][]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [k, r] of finalSignals(batches)) if (r.retracted === 0) out.set(k, { ...r, evidence: JSON.parse(r.evidence as string) });
  return out;
}

/** Held signals minus the population statistics of invite_velocity (recorded at evaluation time). */
export function comparable(batches: readonly RowBatch[][]): Map<string, Record<string, unknown>> {
  const out = held(batches);
  for (const r of out.values()) if (r.signal === 'invite_velocity') delete (r.evidence as Record<string, unknown>).population;
  return out;
}

/** `events` in a seeded shuffle with ~10% duplicates, cut into `n` batches at random points. */
export function shuffledBatches<T>(events: readonly T[], seed: number, n: number): T[][] {
  const rng = new Random(seed);
  const stream = [...events, ...events.filter(() => rng.chance(0.1))];
  for (let i = stream.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [stream[i], stream[j]] = [stream[j], stream[i]];
  }
  const cuts = [0, ...Array.from({ length: n - 1 }, () => rng.int(0, stream.length)).sort((a, b) => a - b), stream.length];
  return cuts.slice(1).map((end, i) => stream.slice(cuts[i], end));
}
