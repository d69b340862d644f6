// Test support for core/demo: recounts and rule checks written independently of the generator,
// straight from design §3 (event rules) and §5 (referral edges, fraud thresholds).
import type { EventType } from '../events/types.ts';
import type { PostedEvent } from './posted-event.ts';

export const SEC = 1000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** §3: required and optional properties per type. */
export const PROPERTY_RULES: Record<EventType, { required: string[]; optional: string[] }> = {
  invite_sent: { required: ['invite_id', 'channel'], optional: ['variant', 'recipient_domain'] },
  invite_opened: { required: ['invite_id'], optional: [] },
  invite_clicked: { required: ['invite_id'], optional: [] },
  signup: { required: [], optional: ['invite_id', 'referrer_id'] },
  purchase: { required: ['order_id', 'amount', 'currency'], optional: [] },
  experiment_exposure: { required: ['experiment_id', 'variant'], optional: [] },
  refund: { required: ['order_id', 'amount', 'currency'], optional: [] },
  reward_claimed: { required: ['reward_id'], optional: ['amount', 'currency'] },
};

const EVENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
// RFC 3339 date-time: date, `T`, time, optional fraction, `Z` or a ±hh:mm offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CHANNELS = ['email', 'sms', 'whatsapp', 'link', 'other'];

/** Epoch ms of a posted occurred_at (RFC 3339 string or epoch ms). */
export function ms(e: PostedEvent): number {
  return typeof e.occurred_at === 'number' ? e.occurred_at : Date.parse(e.occurred_at);
}

/** Every way `e` breaks the §3 table (empty when valid). */
export function violations(e: PostedEvent): string[] {
  const out: string[] = [];
  const extra = Object.keys(e).filter((k) => !['event_id', 'type', 'occurred_at', 'user_id', 'device_id', 'properties'].includes(k));
  if (extra.length) out.push(`unknown fields ${extra.join(',')}`);
  if (typeof e.event_id !== 'string' || !EVENT_ID.test(e.event_id)) out.push('event_id');
  const rules = PROPERTY_RULES[e.type];
  if (!rules) return [...out, 'type'];
  const t = e.occurred_at;
  if (typeof t === 'number' ? !Number.isInteger(t) : typeof t !== 'string' || !RFC3339.test(t) || Number.isNaN(Date.parse(t))) out.push('occurred_at');
  if (typeof e.user_id !== 'string' || e.user_id.length < 1 || e.user_id.length > 128) out.push('user_id');
  if (e.device_id !== undefined && (typeof e.device_id !== 'string' || e.device_id.length < 1 || e.device_id.length > 128)) out.push('device_id');
  const p = e.properties;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return [...out, 'properties'];
  for (const k of rules.required) if (p[k] === undefined || p[k] === '') out.push(`missing ${k}`);
  for (const k of Object.keys(p)) if (!rules.required.includes(k) && !rules.optional.includes(k)) out.push(`extra ${k}`);
  for (const k of ['invite_id', 'referrer_id', 'order_id', 'experiment_id', 'variant', 'reward_id', 'recipient_domain']) {
    if (p[k] !== undefined && (typeof p[k] !== 'string' || p[k] === '')) out.push(k);
  }
  if (e.type === 'invite_sent' && !CHANNELS.includes(p.channel as string)) out.push('channel');
  if (p.amount !== undefined && (typeof p.amount !== 'number' || !Number.isFinite(p.amount) || p.amount < 0)) out.push('amount');
  if (p.currency !== undefined && (typeof p.currency !== 'string' || !/^[A-Z]{3}$/.test(p.currency))) out.push('currency');
  return out;
}

/** The most events of one kind in any closed window of `span` ms, given sorted times. */
export function maxInWindow(times: number[], span: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] > span) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Groups values by key, keeping insertion (time) order. */
export function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** The events re-read the way the pipeline would: invitations, sign-ups and §5 referrer edges. */
export interface Recount {
  invites: Map<string, PostedEvent>;
  signups: Map<string, PostedEvent>;
  /** user → referrer named by the first sign-up (invitation sender, else referrer_id). */
  referrerOf: Map<string, string>;
  deviceOf: Map<string, string | undefined>;
}

export function recount(events: PostedEvent[]): Recount {
  const invites = new Map<string, PostedEvent>();
  const signups = new Map<string, PostedEvent>();
  const referrerOf = new Map<string, string>();
  const deviceOf = new Map<string, string | undefined>();
  for (const e of events) {
    if (e.type === 'invite_sent') invites.set(e.properties.invite_id as string, e);
  }
  for (const e of events) {
    if (e.type !== 'signup' || signups.has(e.user_id)) continue;
    signups.set(e.user_id, e);
    deviceOf.set(e.user_id, e.device_id);
    const invite = e.properties.invite_id as string | undefined;
    const referrer = invite ? invites.get(invite)?.user_id : (e.properties.referrer_id as string | undefined);
    if (referrer) referrerOf.set(e.user_id, referrer);
  }
  return { invites, signups, referrerOf, deviceOf };
}

/** §5 depth following accepted edges; self-referrals and the edge closing a cycle are skipped. */
export function depths(referrerOf: Map<string, string>): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (u: string, seen: Set<string>): number => {
    const known = depth.get(u);
    if (known !== undefined) return known;
    const r = referrerOf.get(u);
    const d = r === undefined || r === u || seen.has(r) ? 0 : of(r, new Set(seen).add(u)) + 1;
    depth.set(u, d);
    return d;
  };
  for (const u of referrerOf.keys()) of(u, new Set([u]));
  return depth;
}
