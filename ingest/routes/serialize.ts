// serializeEvent(event) → exactly JSON.stringify(event) for a normalized event, in about half the
// CPU time.
//
// Ingest writes every accepted event as JSON (the Kafka value, design §3). JSON.stringify spends
// most of its time in its per-character escaping loop over the ids and hashes, which almost never
// hold a character to escape. Here one regex test over all the string fields at once decides:
// when none holds a character JSON.stringify would escape, the string is assembled directly (keys
// in the order of ViralEvent's object literal in core/events/validate.ts, numbers through String()
// as JSON.stringify writes finite numbers, `properties` through JSON.stringify); otherwise, or for
// a non-finite number, JSON.stringify itself is used. The unit test pins the output against
// JSON.stringify, key order included.
import type { ViralEvent } from '../../core/events/types.ts';

/** Characters JSON.stringify escapes (quote, backslash, controls) or may escape (surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

export function serializeEvent(e: ViralEvent): string {
  const strings =
    e.app_id + e.event_id + e.type + e.user_id + e.device_hash + e.ip_hash + e.invite_id + e.channel + e.variant +
    e.recipient_domain + e.referrer_id + e.order_id + e.currency + e.experiment_id + e.reward_id;
  if (NEEDS_ESCAPE.test(strings) || !Number.isFinite(e.occurred_at) || !Number.isFinite(e.received_at) || !Number.isFinite(e.amount)) {
    return JSON.stringify(e);
  }
  return (
    '{"app_id":"' + e.app_id +
    '","event_id":"' + e.event_id +
    '","type":"' + e.type +
    '","occurred_at":' + e.occurred_at +
    ',"received_at":' + e.received_at +
    ',"user_id":"' + e.user_id +
    '","device_hash":"' + e.device_hash +
    '","ip_hash":"' + e.ip_hash +
    '","invite_id":"' + e.invite_id +
    '","channel":"' + e.channel +
    '","variant":"' + e.variant +
    '","recipient_domain":"' + e.recipient_domain +
    '","referrer_id":"' + e.referrer_id +
    '","order_id":"' + e.order_id +
    '","amount":' + e.amount +
    ',"currency":"' + e.currency +
    '","experiment_id":"' + e.experiment_id +
    '","reward_id":"' + e.reward_id +
    '","properties":' + JSON.stringify(e.properties) +
    '}'
  );
}
