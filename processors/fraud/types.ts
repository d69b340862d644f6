// Shapes shared by the fraud rules and the fraud processor (design §5 "Fraud signals").

/** The fixed signal names of design §5; also the Enum8 of `viral.fraud_signals.signal`. */
export const SIGNALS = [
  'self_referral',
  'referral_cycle',
  'invite_velocity',
  'device_reuse',
  'fast_conversion',
  'reward_gaming',
] as const;
export type SignalName = (typeof SIGNALS)[number];

/** An event reduced to what the window rules need: when, and which event proves it. */
export interface Stamp {
  at: number;
  event_id: string;
}

/** Total order on stamps: event time, ties broken by event_id, so every order of arrival sorts alike. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.at - b.at || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}

/** The earlier of two stamps (the one a duplicate-tolerant fold keeps). */
export function earlier<T extends Stamp>(a: T | undefined, b: T): T {
  return a === undefined || compareStamps(b, a) < 0 ? b : a;
}

/**
 * One detected signal before it becomes a row. `event_id` is the event that proves it and `at`
 * that event's time, so (user, signal, event_id) is the identity and `at` is a function of it.
 */
export interface Detection {
  user_id: string;
  signal: SignalName;
  event_id: string;
  at: number;
  evidence: Record<string, unknown>;
}

/** A row of `viral.fraud_signals` (sql/migrations/0200_create_fraud_signals.sql). */
export interface FraudSignalRow {
  app_id: string;
  user_id: string;
  signal: SignalName;
  event_id: string;
  /** Event time of the evidence event, unix seconds (ClickHouse DateTime). */
  detected_at: number;
  /** JSON object, keys in a fixed order. */
  evidence: string;
  /** 1 when a later state of the event set no longer supports the signal; readers keep 0 rows. */
  retracted: 0 | 1;
  version: number;
}

/** ISO string for evidence: readable and independent of the machine's time zone. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
