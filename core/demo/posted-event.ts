// The posted (ingest input) form of an event, design §3: what apps send to `POST /v1/events`.
// The demo generator produces these; the start command and the load tests post them; ingest
// validates and normalizes them into `ViralEvent` (core/events/types.ts).
import type { EventType } from '../events/types.ts';

export interface PostedEvent {
  /** 1–64 chars of `[A-Za-z0-9_.:-]`, the idempotency key. */
  event_id: string;
  type: EventType;
  /** Client clock: an RFC 3339 string (UTC or with an offset) or epoch milliseconds. */
  occurred_at: string | number;
  /** 1–128 chars; the acting user (the new user for `signup`). */
  user_id: string;
  /** ≤ 128 chars; absent on server-side events (purchases, refunds). */
  device_id?: string;
  /** Per type, exactly the §3 keys. */
  properties: Record<string, string | number>;
}

/**
 * How a client writes `occurred_at`: mobile SDKs send epoch ms, web clients RFC 3339, some with
 * their local UTC offset. The demo mixes all three so ingest's parsing is exercised.
 */
export type ClientClock = { kind: 'epoch' } | { kind: 'rfc3339'; offsetMinutes: number };

/** Someone who acts in the demo: a user, or an invitee before sign-up (anonymous visitor). */
export interface Actor {
  id: string;
  device: string;
  clock: ClientClock;
}

function offsetSuffix(minutes: number): string {
  if (minutes === 0) return 'Z';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Writes epoch ms the way the client would post it; every form denotes the same instant. */
export function stamp(ms: number, clock: ClientClock): string | number {
  if (clock.kind === 'epoch') return ms;
  // Shift the wall clock by the offset, then replace the trailing `Z` with that offset.
  const local = new Date(ms + clock.offsetMinutes * 60_000).toISOString();
  return local.slice(0, -1) + offsetSuffix(clock.offsetMinutes);
}
