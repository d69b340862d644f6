// serializeEvent must write exactly what JSON.stringify writes for every normalized event: the
// Kafka value is read by every processor and replayed as is.
import { describe, expect, it } from 'vitest';
import { generateDemo } from '../../core/demo/index.ts';
import { validateEvent } from '../../core/events/validate.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { serializeEvent } from './serialize.ts';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const ctx = { appId: 'app-1', receivedAt: NOW, skewMs: 0, ipHash: 'ab'.repeat(32), hashSalt: 'unit-test-salt' };

function normalized(raw: unknown, over: Partial<typeof ctx> = {}): ViralEvent {
  const r = validateEvent(raw, { ...ctx, ...over });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.event;
}

const base = { event_id: 'e-1', type: 'invite_sent', occurred_at: NOW - 1000, user_id: 'alice', properties: { invite_id: 'inv-1', channel: 'email' } };

describe('serializeEvent', () => {
  it('equals JSON.stringify for the demo traffic', () => {
    const { events } = generateDemo({ seed: 7, now: NOW, days: 7, seedUsers: 60 });
    let n = 0;
    for (const e of events) {
      const r = validateEvent(e, ctx);
      if (!r.ok) continue;
      expect(serializeEvent(r.event)).toBe(JSON.stringify(r.event));
      n++;
    }
    expect(n).toBeGreaterThan(500);
  });

  it.each([
    { description: 'a quote', s: 'a"b' },
    { description: 'a backslash', s: 'a\\b' },
    { description: 'control characters', s: 'tab\there\nnew\u0001\u001f' },
    { description: 'a lone surrogate', s: 'x\ud800y' },
    { description: 'a surrogate pair', s: 'emoji 😀' },
    { description: 'non-ASCII text', s: 'héllo €' },
    { description: 'DEL and the line separators', s: '\u007f\u2028\u2029' },
    { description: 'an HTML-looking value', s: '</script><b>' },
  ])('equals JSON.stringify with $description in any string field', ({ s }) => {
    const variants: ViralEvent[] = [
      normalized({ ...base, user_id: s }),
      normalized({ ...base, properties: { invite_id: s, channel: 'sms', variant: s, recipient_domain: s, note: s } }),
      normalized({ ...base, type: 'signup', properties: { referrer_id: s, invite_id: 'x', currency: s } }),
      normalized({ ...base, type: 'reward_claimed', properties: { reward_id: s, amount: '12.50', currency: 'EUR' } }),
      normalized({ ...base, type: 'experiment_exposure', properties: { experiment_id: s, variant: s } }),
      normalized({ ...base, type: 'purchase', properties: { order_id: s, amount: 0.1, currency: 'USD' } }),
      normalized(base, { appId: s }),
      { ...normalized(base), device_hash: s, ip_hash: s },
    ];
    for (const e of variants) expect(serializeEvent(e)).toBe(JSON.stringify(e));
  });

  it('equals JSON.stringify for numbers of every shape and for non-finite ones', () => {
    for (const amount of [0, -0, 1e12, 0.1, 12.5, 123456789.12345678, 5e-7, NaN, Infinity]) {
      for (const occurred_at of [0, NOW, 8.64e15, -1, NaN]) {
        const e = { ...normalized(base), amount, occurred_at };
        expect(serializeEvent(e)).toBe(JSON.stringify(e));
      }
    }
  });

  it('keeps the raw properties as JSON.stringify writes them', () => {
    const e = normalized({ ...base, properties: { invite_id: 'i', channel: 'link', nested: { a: [1, 'two', null, { 'k"ey': 'v\n' }] }, n: 1.5e300 } });
    expect(serializeEvent(e)).toBe(JSON.stringify(e));
  });
});
