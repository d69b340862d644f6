// The normalized event that ingest writes to Kafka (`viral.events.v1`) and every processor reads.
// Design §3: the client posts `occurred_at` as RFC 3339 or epoch ms; ingest turns it into epoch
// ms UTC (corrected for batch clock skew), hashes device and IP, and lifts the typed properties
// of each event type into flat fields so processors and ClickHouse never parse `properties`.

export const EVENT_TYPES = [
  'invite_sent',
  'invite_opened',
  'invite_clicked',
  'signup',
  'purchase',
  'experiment_exposure',
  'refund',
  'reward_claimed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const CHANNELS = ['email', 'sms', 'whatsapp', 'link', 'other'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface ViralEvent {
  /** Tenant: the app of the ingest key that posted the event. */
  app_id: string;
  /** Idempotency key within an app (design §3). */
  event_id: string;
  type: EventType;
  /** Event time, epoch milliseconds UTC, already skew-corrected. */
  occurred_at: number;
  /** When ingest received it, epoch milliseconds UTC. */
  received_at: number;
  user_id: string;
  /** Salted SHA-256 hex of device_id, '' when absent. */
  device_hash: string;
  /** Salted SHA-256 hex of the client IP, '' when unknown. */
  ip_hash: string;
  // Typed properties ('' / 0 when the type does not carry them).
  invite_id: string;
  channel: Channel | '';
  variant: string;
  recipient_domain: string;
  referrer_id: string;
  order_id: string;
  /** Decimal amount for purchase / refund / reward_claimed; 0 otherwise. */
  amount: number;
  /** ISO 4217, upper case, '' when absent. */
  currency: string;
  experiment_id: string;
  reward_id: string;
  /** The raw `properties` object as posted (unknown keys kept, ignored). */
  properties: Record<string, unknown>;
}

/** Builder defaults for a normalized event; used by tests and the demo generator. */
export function emptyEvent(): Omit<ViralEvent, 'app_id' | 'event_id' | 'type' | 'occurred_at' | 'user_id'> {
  return {
    received_at: 0,
    device_hash: '',
    ip_hash: '',
    invite_id: '',
    channel: '',
    variant: '',
    recipient_domain: '',
    referrer_id: '',
    order_id: '',
    amount: 0,
    currency: '',
    experiment_id: '',
    reward_id: '',
    properties: {},
  };
}
