// Row shape of `viral.events` (sql/migrations/0001): event → row for the raw sink, and row → event
// for rebuilding processor state from ClickHouse (design §4 restart).
import type { ViralEvent } from '../events/types.ts';

export const RAW_TABLE = 'events';

/** Maps a normalized event to its `viral.events` row (DateTime as unix seconds: clickhouse-18.md). */
export function toRawRow(e: ViralEvent): Record<string, unknown> {
  return {
    app_id: e.app_id,
    event_id: e.event_id,
    type: e.type,
    occurred_at: Math.floor(e.occurred_at / 1000),
    occurred_ms: e.occurred_at % 1000,
    received_at: Math.floor(e.received_at / 1000),
    user_id: e.user_id,
    device_hash: e.device_hash ?? '',
    ip_hash: e.ip_hash ?? '',
    invite_id: e.invite_id ?? '',
    channel: e.channel ?? '',
    variant: e.variant ?? '',
    recipient_domain: e.recipient_domain ?? '',
    referrer_id: e.referrer_id ?? '',
    order_id: e.order_id ?? '',
    amount: e.amount ?? 0,
    currency: e.currency ?? '',
    experiment_id: e.experiment_id ?? '',
    reward_id: e.reward_id ?? '',
    properties: JSON.stringify(e.properties ?? {}),
    // Same value for every copy of the event, so which copy survives a merge does not matter.
    version: e.received_at,
  };
}

/** Inverse of toRawRow, for rebuilding processor state from `viral.events` (design §4 restart). */
export function fromRawRow(r: Record<string, unknown>): ViralEvent {
  let properties: Record<string, unknown> = {};
  try {
    properties = JSON.parse(String(r.properties ?? '{}'));
  } catch {
    properties = {};
  }
  return {
    app_id: String(r.app_id),
    event_id: String(r.event_id),
    type: r.type as ViralEvent['type'],
    occurred_at: Number(r.occurred_at_s) * 1000 + Number(r.occurred_ms),
    received_at: Number(r.received_at_s) * 1000,
    user_id: String(r.user_id),
    device_hash: String(r.device_hash),
    ip_hash: String(r.ip_hash),
    invite_id: String(r.invite_id),
    channel: r.channel as ViralEvent['channel'],
    variant: String(r.variant),
    recipient_domain: String(r.recipient_domain),
    referrer_id: String(r.referrer_id),
    order_id: String(r.order_id),
    amount: Number(r.amount),
    currency: String(r.currency),
    experiment_id: String(r.experiment_id),
    reward_id: String(r.reward_id),
    properties,
  };
}

/** Columns to select for fromRawRow (DateTimes as unix seconds, not formatted strings). */
export const RAW_SELECT =
  'app_id, event_id, type, toUInt32(occurred_at) AS occurred_at_s, occurred_ms, toUInt32(received_at) AS received_at_s, user_id, device_hash, ip_hash, invite_id, channel, variant, recipient_domain, referrer_id, order_id, amount, currency, experiment_id, reward_id, properties';

