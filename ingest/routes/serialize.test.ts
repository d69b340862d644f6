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
    // Set on a normalized event rather than posted: validation refuses some of these values in
    // some fields (a lone surrogate in an id), while serializeEvent must match for any event.
    const e = normalized(base);
    const variants: ViralEvent[] = [
      { ...e, user_id: s },
      { ...e, invite_id: s, variant: s, recipient_domain: s, properties: { ...e.properties, note: s } },
      { ...e, type: 'signup', referrer_id: s, currency: s },
      { ...e, type: 'reward_claimed', reward_id: s },
      { ...e, type: 'experiment_exposure', experiment_id: s, variant: s },
      { ...e, type: 'purchase', order_id: s },
      { ...e, app_id: s, event_id: s },
      { ...e, device_hash: s, ip_hash: s },
    ];
    for (const v of variants) expect(serializeEvent(v)).toBe(JSON.stringify(v));
    // And through validation where it takes the value: the properties as posted.
    const posted = normalized({ ...base, properties: { invite_id: 'inv-1', channel: 'sms', note: s } });
    expect(serializeEvent(posted)).toBe(JSON.stringify(posted));
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
