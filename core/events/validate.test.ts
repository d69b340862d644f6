// validateEvent / hashId / cachedHashId (design §3): normalization, every reason an event is
// refused, the properties depth limit, and salted hashes that never depend on the cache.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedHashId, hashId, isViralEvent, MAX_PROPERTIES_DEPTH, parseTime, validateEvent, type ValidationContext } from './validate.ts';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const SALT = 'unit-test-salt-0123456789';
const ctx = (over: Partial<ValidationContext> = {}): ValidationContext => ({ appId: 'app1', receivedAt: NOW, skewMs: 0, ipHash: 'iphash', hashSalt: SALT, ...over });
const hmac = (salt: string, v: string) => createHmac('sha256', salt).update(v).digest('hex');

const invite = (extra: Record<string, unknown> = {}) => ({
  event_id: 'e-1',
  type: 'invite_sent',
  occurred_at: '2026-06-01T11:59:00Z',
  user_id: 'alice',
  device_id: 'dev-1',
  properties: { invite_id: 'inv-1', channel: 'email', variant: 'A', extra: { kept: true } },
  ...extra,
});

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

describe('validateEvent: normalization', () => {
  it('normalizes an invite_sent: epoch ms, hashes, lifted properties, raw properties kept', () => {
    const r = validateEvent(invite(), ctx());
    expect(r).toEqual({
      ok: true,
      event: {
        app_id: 'app1',
        event_id: 'e-1',
        type: 'invite_sent',
        occurred_at: NOW - 60_000,
        received_at: NOW,
        user_id: 'alice',
        device_hash: hmac(SALT, 'dev-1'),
        ip_hash: 'iphash',
        invite_id: 'inv-1',
        channel: 'email',
        variant: 'A',
        recipient_domain: '',
        referrer_id: '',
        order_id: '',
        amount: 0,
        currency: '',
        experiment_id: '',
        reward_id: '',
        properties: { invite_id: 'inv-1', channel: 'email', variant: 'A', extra: { kept: true } },
      },
    });
    // Key order is part of the Kafka value (serialized as built).
    if (r.ok) expect(Object.keys(r.event)).toEqual(['app_id', 'event_id', 'type', 'occurred_at', 'received_at', 'user_id', 'device_hash', 'ip_hash', 'invite_id', 'channel', 'variant', 'recipient_domain', 'referrer_id', 'order_id', 'amount', 'currency', 'experiment_id', 'reward_id', 'properties']);
  });

  it('reads amounts given as decimal strings, keeps channel only for invite_sent, and hashes no device as ""', () => {
    const r = validateEvent({ event_id: 'p1', type: 'purchase', occurred_at: NOW - 5, user_id: 'bob', properties: { order_id: 'o1', amount: '12.50', currency: 'EUR', channel: 'sms' } }, ctx());
    expect(r.ok && r.event).toMatchObject({ amount: 12.5, currency: 'EUR', order_id: 'o1', channel: '', device_hash: '', occurred_at: NOW - 5 });
    const s = validateEvent({ event_id: 's1', type: 'signup', occurred_at: NOW, user_id: 'carol' }, ctx());
    expect(s.ok && s.event.properties).toEqual({});
  });

  it('corrects occurred_at by the skew before checking its bounds', () => {
    const twoHours = 2 * 3600_000;
    const r = validateEvent(invite({ occurred_at: NOW - twoHours - 60_000 }), ctx({ skewMs: twoHours }));
    expect(r.ok && r.event.occurred_at).toBe(NOW - 60_000);
    const late = validateEvent(invite({ occurred_at: NOW + 60_000 }), ctx({ skewMs: 10 * 60_000 }));
    expect(late).toEqual({ ok: false, errors: ['occurred_at: more than 5 minutes in the future'] });
  });

  it('the result passes isViralEvent', () => {
    const r = validateEvent(invite(), ctx());
    expect(r.ok && isViralEvent(r.event)).toBe(true);
  });
});

describe('validateEvent: strings that become ClickHouse columns', () => {
  it('refuses a lone surrogate in user_id and in lifted properties, naming the field', () => {
    expect(validateEvent(invite({ user_id: 'al\ud800ice' }), ctx())).toEqual({ ok: false, errors: ['user_id: must be well-formed Unicode (it holds a lone surrogate)'] });
    expect(validateEvent(invite({ properties: { invite_id: 'inv\udfff', channel: 'email' } }), ctx())).toEqual({
      ok: false,
      errors: ['properties.invite_id: must be well-formed Unicode (it holds a lone surrogate)'],
    });
  });

  it('takes surrogate pairs (emoji) there, and a lone surrogate in other properties (kept inside the properties JSON)', () => {
    const r = validateEvent(invite({ user_id: 'al😀ice', properties: { invite_id: 'inv-😀', channel: 'email', note: 'x\ud800' } }), ctx());
    expect(r.ok && r.event.user_id).toBe('al😀ice');
    expect(r.ok && isViralEvent(r.event)).toBe(true);
  });
});

describe('isViralEvent: what processors take from the topic', () => {
  const normalized = () => {
    const r = validateEvent(invite(), ctx());
    if (!r.ok) throw new Error('fixture invalid');
    return r.event as unknown as Record<string, unknown>;
  };

  it('takes properties nested as deep as ingest allows', () => {
    expect(isViralEvent({ ...normalized(), properties: { k: nested(MAX_PROPERTIES_DEPTH - 1) } })).toBe(true);
  });

  it('takes an event whose optional typed fields are absent (another producer)', () => {
    const { device_hash: _d, ip_hash: _i, variant: _v, properties: _p, ...partial } = normalized();
    expect(isViralEvent(partial)).toBe(true);
  });

  // Each of these would fail the viral.events insert (or a fold), and a batch that cannot be
  // written is retried forever: they must be dead letters instead.
  it.each([
    { description: 'an inherited type name', over: { type: 'toString' } },
    { description: 'the type __proto__', over: { type: '__proto__' } },
    { description: 'a fractional occurred_at', over: { occurred_at: 1_764_000_000_000.5 } },
    { description: 'a negative occurred_at', over: { occurred_at: -1 } },
    { description: 'an occurred_at past 2106', over: { occurred_at: 4_294_967_296_000 } },
    { description: 'a received_at that is not a number', over: { received_at: '2026-06-01' } },
    { description: 'a fractional received_at', over: { received_at: NOW + 0.25 } },
    { description: 'a negative received_at', over: { received_at: -1000 } },
    { description: 'a device_hash that is a number', over: { device_hash: 42 } },
    { description: 'a channel that is an object', over: { channel: { a: 1 } } },
    { description: 'a channel outside the list', over: { channel: 'pigeon' } },
    { description: 'properties that are an array', over: { properties: [] } },
    { description: 'properties that are null', over: { properties: null } },
    { description: 'properties nested deeper than ingest allows', over: { properties: { k: nested(MAX_PROPERTIES_DEPTH) } } },
    { description: 'a user_id holding a lone surrogate (ClickHouse refuses the row)', over: { user_id: 'u\ud800' } },
    { description: 'an invite_id holding a lone surrogate', over: { invite_id: '\udc00i' } },
    { description: 'properties nested 100,000 levels deep (JSON.stringify would overflow the stack)', over: { properties: { k: nested(100_000) } } },
    { description: 'an amount that is a string', over: { amount: '12.5' } },
    { description: 'an amount past ingest\'s bound (sums could overflow to Infinity)', over: { amount: 1e308 } },
    { description: 'a negative amount', over: { amount: -1 } },
  ])('refuses $description', ({ over }) => {
    expect(isViralEvent({ ...normalized(), ...over })).toBe(false);
  });
});

describe('validateEvent: reasons', () => {
  it.each([
    { description: 'not an object', raw: 'x', errors: ['(event): must be a JSON object'] },
    { description: 'null', raw: null, errors: ['(event): must be a JSON object'] },
    { description: 'an array', raw: [invite()], errors: ['(event): must be a JSON object'] },
    { description: 'an unknown type', raw: invite({ type: 'teleport' }), errors: ['type: must be one of invite_sent, invite_opened, invite_clicked, signup, purchase, experiment_exposure, refund, reward_claimed'] },
    { description: 'a bad event_id', raw: invite({ event_id: 'a b' }), errors: ['event_id: must match ^[A-Za-z0-9_.:-]{1,64}$'] },
    { description: 'too old', raw: invite({ occurred_at: NOW - 31 * 24 * 3600_000 }), errors: ['occurred_at: more than 30 days in the past'] },
    { description: 'too far ahead', raw: invite({ occurred_at: NOW + 6 * 60_000 }), errors: ['occurred_at: more than 5 minutes in the future'] },
    { description: 'an unparseable date', raw: invite({ occurred_at: 'yesterday' }), errors: ['occurred_at: must be an RFC 3339 date-time', 'occurred_at: must be integer'] },
    { description: 'a fractional epoch', raw: invite({ occurred_at: 1.5 }), errors: ['occurred_at: must be string', 'occurred_at: must be integer'] },
    { description: 'a missing invite_id and channel', raw: invite({ properties: {} }), errors: ['properties.invite_id: is required', 'properties.channel: is required'] },
    { description: 'a device_id too long', raw: invite({ device_id: 'd'.repeat(129) }), errors: ['device_id: must NOT have more than 128 characters'] },
    { description: 'properties that are an array', raw: invite({ properties: [] }), errors: ['properties: must be object'] },
    {
      description: 'a negative amount and a lower-case currency',
      raw: { event_id: 'p', type: 'purchase', occurred_at: NOW, user_id: 'u', properties: { order_id: 'o', amount: -5, currency: 'usd' } },
      errors: ['properties.amount: must be >= 0', 'properties.amount: must be string', 'properties.currency: must match ^[A-Z]{3}$'],
    },
    {
      description: 'an unknown currency code',
      raw: { event_id: 'p', type: 'refund', occurred_at: NOW, user_id: 'u', properties: { order_id: 'o', amount: 1, currency: 'XXY' } },
      errors: ['properties.currency: XXY is not an ISO 4217 currency code'],
    },
    { description: 'nothing at all', raw: {}, errors: ['event_id: is required', 'type: is required', 'occurred_at: is required', 'user_id: is required'] },
  ])('refuses $description', ({ raw, errors }) => {
    expect(validateEvent(raw, ctx())).toEqual({ ok: false, errors });
  });

  it(`refuses properties nested deeper than ${MAX_PROPERTIES_DEPTH} levels, accepts exactly ${MAX_PROPERTIES_DEPTH}`, () => {
    // properties itself is level 1.
    const ok = validateEvent(invite({ properties: { invite_id: 'i', channel: 'email', deep: nested(MAX_PROPERTIES_DEPTH - 1) } }), ctx());
    expect(ok.ok).toBe(true);
    const bad = validateEvent(invite({ properties: { invite_id: 'i', channel: 'email', deep: nested(MAX_PROPERTIES_DEPTH) } }), ctx());
    expect(bad).toEqual({ ok: false, errors: [`properties: nested deeper than ${MAX_PROPERTIES_DEPTH} levels`] });
  });

  it('survives hostile nesting (no stack overflow)', () => {
    const r = validateEvent(invite({ properties: { invite_id: 'i', channel: 'email', deep: nested(200_000) } }), ctx());
    expect(r.ok).toBe(false);
  });
});

describe('hashes', () => {
  it('hashId is the salted HMAC-SHA-256 hex; "" stays ""', () => {
    expect(hashId(SALT, 'dev-1')).toBe(hmac(SALT, 'dev-1'));
    expect(hashId(SALT, '')).toBe('');
  });

  it('cachedHashId gives the same values as hashId, across repeats, salt changes and cache turnover', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => `device-${i % 12_000}`);
    for (const salt of [SALT, 'another-salt-9876543210', SALT]) {
      for (const v of values.slice(0, 3000)) expect(cachedHashId(salt, v)).toBe(hmac(salt, v));
    }
    // Beyond the cache's two generations: values come back after being dropped.
    for (const v of values) cachedHashId(SALT, v);
    for (const v of values.slice(0, 50)) expect(cachedHashId(SALT, v)).toBe(hmac(SALT, v));
    expect(cachedHashId(SALT, '')).toBe('');
    expect(cachedHashId(SALT, '127.0.0.1')).toBe(hmac(SALT, '127.0.0.1'));
  });
});

describe('parseTime', () => {
  it.each([
    { v: '2026-06-01T12:00:00Z', t: NOW },
    { v: NOW, t: NOW },
    { v: 1.5, t: NaN },
    { v: 'nope', t: NaN },
    { v: null, t: NaN },
  ])('$v → $t', ({ v, t }) => expect(parseTime(v)).toBe(t));
});
