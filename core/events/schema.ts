// JSON Schemas of the ingest contract (design §3), one source for validation, OpenAPI and docs.
// Compiled once by ./validate.ts (Ajv). Time bounds and skew correction are checked in code,
// since they depend on the receive time.
import { CHANNELS, EVENT_TYPES } from './types.ts';

export const EVENT_ID_PATTERN = '^[A-Za-z0-9_.:-]{1,64}$';
const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const amount = {
  description: 'decimal ≥ 0 (a JSON number, or a decimal string such as "12.50")',
  anyOf: [
    { type: 'number', minimum: 0, maximum: 1e12 },
    { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,8})?$' },
  ],
} as const;
const currency = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. USD' } as const;

/** Required and optional properties per type; unknown extra keys are kept but ignored. */
export const PROPERTY_SCHEMAS = {
  invite_sent: {
    type: 'object',
    required: ['invite_id', 'channel'],
    properties: { invite_id: id, channel: { enum: CHANNELS }, variant: id, recipient_domain: { type: 'string', maxLength: 253 } },
  },
  invite_opened: { type: 'object', required: ['invite_id'], properties: { invite_id: id } },
  invite_clicked: { type: 'object', required: ['invite_id'], properties: { invite_id: id } },
  signup: { type: 'object', properties: { invite_id: id, referrer_id: id } },
  purchase: { type: 'object', required: ['order_id', 'amount', 'currency'], properties: { order_id: id, amount, currency } },
  experiment_exposure: { type: 'object', required: ['experiment_id', 'variant'], properties: { experiment_id: id, variant: id } },
  refund: { type: 'object', required: ['order_id', 'amount', 'currency'], properties: { order_id: id, amount, currency } },
  reward_claimed: { type: 'object', required: ['reward_id'], properties: { reward_id: id, amount, currency } },
} as const;

export const EVENT_SCHEMA = {
  $id: 'ViralEvent',
  type: 'object',
  required: ['event_id', 'type', 'occurred_at', 'user_id'],
  properties: {
    event_id: { type: 'string', pattern: EVENT_ID_PATTERN },
    type: { enum: EVENT_TYPES },
    occurred_at: {
      description: 'RFC 3339 date-time or epoch milliseconds',
      anyOf: [
        { type: 'string', format: 'date-time', maxLength: 40 },
        { type: 'integer', minimum: 0, maximum: 8.64e15 },
      ],
    },
    user_id: id,
    device_id: { type: 'string', maxLength: 128 },
    properties: { type: 'object' },
  },
} as const;

export const BATCH_SCHEMA = {
  type: 'object',
  required: ['events'],
  properties: {
    events: { type: 'array', minItems: 1, maxItems: 1000, items: {} },
    sent_at: EVENT_SCHEMA.properties.occurred_at,
  },
} as const;

export const INGEST_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    rejected: {
      type: 'array',
      items: { type: 'object', properties: { index: { type: 'integer' }, errors: { type: 'array', items: { type: 'string' } } } },
    },
  },
} as const;

/** Error answers of every route: `{error, message}` (+ the ingest fields for a rejected event). */
export const ERROR_SCHEMA = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, ...INGEST_RESPONSE_SCHEMA.properties },
  additionalProperties: true,
} as const;
