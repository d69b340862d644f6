// validateEvent(raw, ctx) → { ok: true, event } | { ok: false, errors } — pure (conventions §3).
// Design §3: common fields, per-type properties, occurred_at within [now − 30 d, now + 5 min]
// after the batch's clock-skew correction (received_at − sent_at), device/IP hashed with a salt.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { EVENT_SCHEMA, PROPERTY_SCHEMAS } from './schema.ts';
import { NOT_WELL_FORMED, wellFormed } from '../unicode.ts';
import { CHANNELS, type EventType, type ViralEvent, type Channel } from './types.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const MAX_PAST_MS = 30 * 24 * 3600 * 1000;
/** Properties are kept as posted; deeper nesting than this is refused (it only serves attacks). */
export const MAX_PROPERTIES_DEPTH = 32;
const MAX_FUTURE_MS = 5 * 60 * 1000;
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const validateCommon: ValidateFunction = ajv.compile(EVENT_SCHEMA);
const validateProps = Object.fromEntries(
  Object.entries(PROPERTY_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<EventType, ValidateFunction>;

export interface ValidationContext {
  appId: string;
  /** Receive time, epoch ms. */
  receivedAt: number;
  /** received_at − sent_at of the batch (0 without sent_at). */
  skewMs: number;
  ipHash: string;
  hashSalt: string;
}

export type ValidationResult = { ok: true; event: ViralEvent } | { ok: false; errors: string[] };

/** Parses an RFC 3339 string or epoch ms; NaN when invalid. */
export function parseTime(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : NaN;
  if (typeof value === 'string') return Date.parse(value);
  return NaN;
}

/** Salted hash of an identifier (device id, IP): HMAC-SHA-256, hex; '' stays ''. */
export function hashId(salt: string, value: string): string {
  return value ? createHmac('sha256', salt).update(value).digest('hex') : '';
}

/**
 * Recently computed hashes: an HMAC costs ~1.7 µs while a device posts many events (and an IP
 * many requests), so most hashes of a busy ingest are repeats. Same values as hashId; the cache
 * starts over when the salt changes.
 */
const HASH_CACHE_SIZE = 16_384;
let cacheSalt = '';
let recentHashes = new LRUCache<string, string>({ max: HASH_CACHE_SIZE });

/** hashId(salt, value), remembered for recently seen values. */
export function cachedHashId(salt: string, value: string): string {
  if (!value) return '';
  if (salt !== cacheSalt) {
    cacheSalt = salt;
    recentHashes = new LRUCache<string, string>({ max: HASH_CACHE_SIZE });
  }
  let h = recentHashes.get(value);
  if (h === undefined) recentHashes.set(value, (h = hashId(salt, value)));
  return h;
}

function describe(prefix: string, errors: ErrorObject[] | null | undefined): string[] {
  if (!errors) return [];
  const out: string[] = [];
  for (const e of errors) {
    // anyOf branches report each failure; the summary line below names the field once.
    if (e.keyword === 'anyOf') continue;
    const parts = [prefix, ...e.instancePath.split('/').filter(Boolean)];
    if (e.keyword === 'required') parts.push((e.params as { missingProperty: string }).missingProperty);
    const field = parts.filter(Boolean).join('.') || '(event)';
    let msg: string;
    switch (e.keyword) {
      case 'required':
        msg = 'is required';
        break;
      case 'enum':
        msg = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
        break;
      case 'pattern':
        msg = `must match ${(e.params as { pattern: string }).pattern}`;
        break;
      case 'format':
        msg = 'must be an RFC 3339 date-time';
        break;
      default:
        msg = e.message ?? 'is invalid';
    }
    const line = `${field}: ${msg}`;
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

function amountOf(v: unknown): number {
  return typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : 0;
}

/** Properties lifted into typed fields (and so into ClickHouse columns). */
const LIFTED_STRINGS = ['invite_id', 'channel', 'variant', 'recipient_domain', 'referrer_id', 'order_id', 'currency', 'experiment_id', 'reward_id'] as const;

// Module level rather than a closure in validateEvent: tsx (esbuild keepNames) re-names a local
// arrow function with Object.defineProperty on every call, which cost ~0.3 µs per event.
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Validates one posted event and normalizes it (design §3). */
export function validateEvent(raw: unknown, ctx: ValidationContext): ValidationResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, errors: ['(event): must be a JSON object'] };
  const errors: string[] = [];
  if (!validateCommon(raw)) errors.push(...describe('', validateCommon.errors));
  const e = raw as Record<string, unknown>;
  const type = e.type as EventType;
  const props = (e.properties ?? {}) as Record<string, unknown>;
  const propsValidator = validateProps[type];
  if (propsValidator && (e.properties === undefined || (typeof e.properties === 'object' && e.properties !== null && !Array.isArray(e.properties)))) {
    if (!propsValidator(props)) errors.push(...describe('properties', propsValidator.errors));
  }
  if (deeperThan(props, MAX_PROPERTIES_DEPTH)) errors.push(`properties: nested deeper than ${MAX_PROPERTIES_DEPTH} levels`);
  if (typeof props.currency === 'string' && /^[A-Z]{3}$/.test(props.currency) && !CURRENCIES.has(props.currency)) {
    errors.push(`properties.currency: ${props.currency} is not an ISO 4217 currency code`);
  }
  let occurredAt = NaN;
  if (e.occurred_at !== undefined) {
    const t = parseTime(e.occurred_at);
    if (Number.isFinite(t)) {
      occurredAt = t + ctx.skewMs;
      if (occurredAt < ctx.receivedAt - MAX_PAST_MS) errors.push('occurred_at: more than 30 days in the past');
      else if (occurredAt > ctx.receivedAt + MAX_FUTURE_MS) errors.push('occurred_at: more than 5 minutes in the future');
    } else if (!errors.some((m) => m.startsWith('occurred_at'))) {
      errors.push('occurred_at: must be an RFC 3339 date-time or epoch milliseconds');
    }
  }
  // Fields that become ClickHouse columns must be well-formed Unicode: ClickHouse 18.16 refuses a lone
  // surrogate (JSON "\ud800") in a JSONEachRow insert, and a row it refuses would stop the
  // processors. (Other properties are kept inside the properties JSON text, where it is harmless.)
  if (typeof e.user_id === 'string' && !wellFormed(e.user_id)) errors.push(`user_id: ${NOT_WELL_FORMED}`);
  for (const key of LIFTED_STRINGS) {
    const v = props[key];
    if (typeof v === 'string' && !wellFormed(v)) errors.push(`properties.${key}: ${NOT_WELL_FORMED}`);
  }
  if (errors.length) return { ok: false, errors };

  const event: ViralEvent = {
    app_id: ctx.appId,
    event_id: e.event_id as string,
    type,
    occurred_at: occurredAt,
    received_at: ctx.receivedAt,
    user_id: e.user_id as string,
    device_hash: cachedHashId(ctx.hashSalt, str(e.device_id)),
    ip_hash: ctx.ipHash,
    invite_id: str(props.invite_id),
    channel: (type === 'invite_sent' ? str(props.channel) : '') as Channel | '',
    variant: str(props.variant),
    recipient_domain: str(props.recipient_domain),
    referrer_id: str(props.referrer_id),
    order_id: str(props.order_id),
    amount: amountOf(props.amount),
    currency: str(props.currency),
    experiment_id: str(props.experiment_id),
    reward_id: str(props.reward_id),
    properties: props,
  };
  return { ok: true, event };
}

/** Latest time a ClickHouse DateTime holds (2106-02-07), epoch ms. */
const MAX_EPOCH_MS = 4_294_967_295_999;
/** Typed fields a normalized event may omit ('' when absent) but not give another type (nor a lone surrogate: ClickHouse refuses the row). */
const OPTIONAL_STRINGS = ['device_hash', 'ip_hash', ...LIFTED_STRINGS] as const;

const MAX_AMOUNT = 1e12;
const CHANNEL_NAMES = new Set<unknown>(['', ...CHANNELS]);

function epochMs(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_EPOCH_MS;
}

/**
 * Checks that a decoded Kafka message is a normalized event (processors dead-letter anything
 * else). Whatever passes has a `viral.events` row ClickHouse takes (core/clickhouse/raw-events.ts):
 * a message from a faulty producer that would fail the insert must not pass, or its batch would
 * be retried forever.
 */
export function isViralEvent(v: unknown): v is ViralEvent {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  if (
    !(
      typeof e.app_id === 'string' &&
      e.app_id !== '' &&
      typeof e.event_id === 'string' &&
      e.event_id !== '' &&
      typeof e.type === 'string' &&
      Object.hasOwn(validateProps, e.type) &&
      typeof e.user_id === 'string' &&
      e.user_id !== '' &&
      epochMs(e.occurred_at) &&
      epochMs(e.received_at) &&
      // Ingest's bounds (schema.ts): sums of such amounts stay finite (an Infinity would be written as null).
      typeof e.amount === 'number' &&
      e.amount >= 0 &&
      e.amount <= MAX_AMOUNT &&
      // The k-factor rows' channel is an Enum8 of these (sql/migrations/0300).
      (e.channel === undefined || CHANNEL_NAMES.has(e.channel)) &&
      // Nested no deeper than ingest allows: the raw row's JSON.stringify of a deeper one (a
      // 1 MB message holds ~500k levels) overflows the stack.
      (e.properties === undefined || (typeof e.properties === 'object' && e.properties !== null && !Array.isArray(e.properties) && !deeperThan(e.properties, MAX_PROPERTIES_DEPTH)))
    )
  ) {
    return false;
  }
  if (!wellFormed(e.app_id as string) || !wellFormed(e.event_id as string) || !wellFormed(e.user_id as string)) return false;
  for (let i = 0; i < OPTIONAL_STRINGS.length; i++) {
    const s = e[OPTIONAL_STRINGS[i]];
    if (s !== undefined && (typeof s !== 'string' || !wellFormed(s))) return false;
  }
  return true;
}

/**
 * Whether a JSON value nests objects/arrays more than `limit` levels deep (the value itself is
 * level 1). Recursive, but never deeper than `limit` + 1 calls whatever the input, and without
 * the per-value allocations of an explicit stack (properties are usually flat).
 */
function deeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (let i = 0; i < children.length; i++) if (deeperThan(children[i], limit - 1)) return true;
  return false;
}
