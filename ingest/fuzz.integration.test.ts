// Bad input (issue 8): a property-based fuzz of both ingest routes on the real Kafka. Every
// request gets a 4xx with a reason (or a 202 that lists what it rejected), the service stays up,
// memory stays bounded, and every syntactically complete but invalid event is in the dead-letter
// topic.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import fc from 'fast-check';
import { makeTenant, readTopic, testConfig } from '../core/testing/services.ts';
import { startIngest } from './main.ts';

const tenant = makeTenant('fuzz');
const config = testConfig([tenant], { INGEST_RATE_LIMIT: '1000000' });
let ingest: Awaited<ReturnType<typeof startIngest>>;

beforeAll(async () => {
  ingest = await startIngest(config);
});
afterAll(async () => {
  await ingest?.close();
});

const validEvent = (id: string) => ({ event_id: id, type: 'signup', occurred_at: Date.now() - 1000, user_id: 'u1', properties: {} });

/** Arbitrary broken events: each breaks one or more rules of design §3. */
const brokenEvent = fc.oneof(
  fc.record({ event_id: fc.string({ maxLength: 80 }).filter((s) => !/^[A-Za-z0-9_.:-]{1,64}$/.test(s)), type: fc.constant('signup'), occurred_at: fc.constant(Date.now()), user_id: fc.constant('u') }),
  fc.record({ event_id: fc.constant('t1'), type: fc.string({ maxLength: 20 }), occurred_at: fc.constant(Date.now()), user_id: fc.constant('u') }),
  fc.record({ event_id: fc.constant('t2'), type: fc.constant('signup'), occurred_at: fc.oneof(fc.integer({ min: -1e15, max: 1e15 }), fc.double(), fc.string({ maxLength: 30 }), fc.constant('9999-12-31T00:00:00Z'), fc.constant('1970-01-01T00:00:00Z')), user_id: fc.constant('u') }),
  fc.record({ event_id: fc.constant('t3'), type: fc.constant('purchase'), occurred_at: fc.constant(Date.now()), user_id: fc.constant('u'), properties: fc.record({ order_id: fc.string({ maxLength: 200 }), amount: fc.oneof(fc.double(), fc.integer({ min: -1e9, max: 1e18 }), fc.string({ maxLength: 20 })), currency: fc.string({ maxLength: 5 }) }) }),
  fc.record({ event_id: fc.constant('t4'), type: fc.constant('invite_sent'), occurred_at: fc.constant(Date.now()), user_id: fc.oneof(fc.constant(''), fc.constant('x'.repeat(129)), fc.integer()), properties: fc.anything() }),
  // Not undefined: JSON has no such value (it would be an empty body, a different case below).
  fc.anything({ maxDepth: 3 }).filter((v) => v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))),
);

async function post(path: string, body: string | Buffer, contentType = 'application/json') {
  const res = await fetch(ingest.url + path, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${tenant.ingestKey}` }, body: body as BodyInit });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
}

describe('ingest fuzz', () => {
  it('answers every malformed request with a 4xx naming the problem, and dead-letters every invalid event', async () => {
    const rssBefore = process.memoryUsage().rss;
    let rejectedEvents = 0;
    let envelopeLetters = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(brokenEvent, { minLength: 1, maxLength: 20 }), fc.boolean(), async (events, withValid) => {
        const all = withValid ? [validEvent(`ok-${Math.random().toString(36).slice(2)}`), ...events] : events;
        const r = await post('/v1/events/batch', JSON.stringify({ events: all }));
        expect(r.status).toBe(202);
        expect(r.body.rejected.length).toBe(events.length);
        for (const x of r.body.rejected) expect(x.errors.length).toBeGreaterThan(0);
        rejectedEvents += events.length;
        // the same events one by one: 400 each, with reasons
        const single = await post('/v1/events', JSON.stringify(events[0]));
        expect(single.status).toBe(400);
        expect(single.body.message.length).toBeGreaterThan(5);
        expect(single.body.rejected[0].errors.length).toBeGreaterThan(0);
        rejectedEvents += 1;
      }),
      { numRuns: 40, seed: 1234 },
    );

    // Malformed bodies: never a 5xx, always a reason.
    // Malformed bodies: never a 5xx, always a reason. `dlq`: the body parsed as JSON, so what was
    // sent is kept in the dead-letter topic even though nothing of it was accepted.
    const malformed: { body: string | Buffer; type?: string; status: number; dlq: boolean }[] = [
      { body: '{"events": [', status: 400, dlq: false },
      { body: '', status: 400, dlq: false },
      { body: 'null', status: 400, dlq: true },
      { body: '[]', status: 400, dlq: true },
      { body: '{"events": "x"}', status: 400, dlq: true },
      { body: '{"events": []}', status: 400, dlq: true },
      { body: Buffer.from([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), status: 400, dlq: true },
      { body: JSON.stringify({ events: Array.from({ length: 1001 }, (_, i) => validEvent(`many-${i}`)) }), status: 413, dlq: true },
      { body: JSON.stringify({ events: [validEvent('big')], pad: 'x'.repeat(2 * 1024 * 1024) }), status: 413, dlq: false },
      { body: '{"events":[{"event_id":"a"}]}', type: 'text/plain', status: 415, dlq: false },
      { body: '<xml/>', type: 'application/xml', status: 415, dlq: false },
      { body: '['.repeat(5000) + ']'.repeat(5000), status: 400, dlq: true },
      { body: JSON.stringify({ events: [validEvent('s1')], sent_at: 'tomorrow' }), status: 400, dlq: true },
    ];
    for (const m of malformed) {
      const r = await post('/v1/events/batch', m.body, m.type);
      expect(r.status, String(m.body).slice(0, 40)).toBe(m.status);
      expect(typeof r.body.message).toBe('string');
      if (m.dlq) envelopeLetters++;
    }
    // Deep nesting inside an event's properties is refused with its reason (and dead-lettered).
    let deep: unknown = 'leaf';
    for (let i = 0; i < 2000; i++) deep = { d: deep };
    const r = await post('/v1/events', JSON.stringify({ ...validEvent('deep-1'), properties: { nested: deep } }));
    expect(r.status).toBe(400);
    expect(r.body.rejected[0].errors).toEqual(['properties: nested deeper than 32 levels']);
    rejectedEvents += 1;

    expect((await fetch(ingest.url + '/health')).status).toBe(200);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);

    const letters = (await readTopic(inject('kafkaBrokers'), config.dlqTopic, rejectedEvents + envelopeLetters, 30_000)).map((l) => JSON.parse(l.value));
    expect(letters.every((l) => l.app_id === tenant.appId && Array.isArray(l.errors) && l.errors.length > 0)).toBe(true);
    expect(letters.filter((l) => typeof l.index === 'number')).toHaveLength(rejectedEvents);
    expect(letters.filter((l) => l.index === undefined)).toHaveLength(envelopeLetters);
  });
});
