// The event routes on a stub producer (no Kafka): what is handed to Kafka for each request —
// normalized events keyed by user_id, dead letters with their reasons — and the answers. The
// same behaviour against the real broker is in ../ingest.integration.test.ts.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../core/config.ts';
import { validateEvent } from '../../core/events/validate.ts';
import { AppError } from '../../core/errors.ts';
import type { EventProducer, OutMessage } from '../../core/kafka/client.ts';
import { toDeadLetter } from '../../core/kafka/dead-letter.ts';
import { createLogger } from '../../core/log.ts';
import { createRegistry } from '../../core/metrics.ts';
import { buildIngest } from '../app.ts';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const SALT = 'route-unit-test-salt';
const KEY = 'ik_unit_test_key';
const config = loadConfig({ NODE_ENV: 'test', VIRAL_API_KEYS: `${KEY}:ingest:app_u`, VIRAL_HASH_SALT: SALT, EVENTS_TOPIC: 'ev', DLQ_TOPIC: 'dlq', LOG_LEVEL: 'silent' });

const sent: OutMessage[][] = [];
let failing = false;
const producer: EventProducer = {
  async send(messages) {
    if (failing) throw new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', 'broker down');
    sent.push(messages);
  },
  connected: () => true,
  close: async () => {},
};
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildIngest({ config, producer, log: createLogger('silent', 'test'), registry: createRegistry('ingest'), now: () => NOW });
});
afterAll(async () => app?.close());

const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id,
  type: 'invite_sent',
  occurred_at: new Date(NOW - 60_000).toISOString(),
  user_id: 'alice',
  device_id: 'device-1',
  properties: { invite_id: `inv-${id}`, channel: 'email' },
  ...extra,
});

async function post(url: string, body: unknown) {
  sent.length = 0;
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.statusCode, body: res.json(), messages: sent.flat() };
}

/** What ingest must produce for an accepted event (inject's client address is 127.0.0.1). */
function expectedValue(raw: unknown, skewMs = 0): string {
  const ipHash = createHmac('sha256', SALT).update('127.0.0.1').digest('hex');
  const r = validateEvent(raw, { appId: 'app_u', receivedAt: NOW, skewMs, ipHash, hashSalt: SALT });
  if (!r.ok) throw new Error('expected a valid event');
  return JSON.stringify(r.event);
}

describe('POST /v1/events/batch', () => {
  it('produces the normalized valid events and dead-letters the others, per index', async () => {
    const events = [ev('b-0'), { ...ev('b-1'), type: 'teleport' }, ev('b-2', { user_id: 'bob', device_id: 'device-2' }), 'not an object'];
    const r = await post('/v1/events/batch', { events });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 1, errors: ['type: must be one of invite_sent, invite_opened, invite_clicked, signup, purchase, experiment_exposure, refund, reward_claimed'] },
        { index: 3, errors: ['(event): must be a JSON object'] },
      ],
    });
    expect(r.messages).toEqual([
      { topic: 'ev', key: 'alice', value: expectedValue(events[0]) },
      toDeadLetter('dlq', { app_id: 'app_u', index: 1, errors: r.body.rejected[0].errors, raw: events[1], received_at: NOW, source: 'ingest' }),
      { topic: 'ev', key: 'bob', value: expectedValue(events[2]) },
      toDeadLetter('dlq', { app_id: 'app_u', index: 3, errors: ['(event): must be a JSON object'], raw: 'not an object', received_at: NOW, source: 'ingest' }),
    ]);
    const device = JSON.parse(r.messages[0].value as string).device_hash;
    expect(device).toBe(createHmac('sha256', SALT).update('device-1').digest('hex'));
  });

  it('counts duplicates within a batch and across requests, and produces each event once', async () => {
    const r1 = await post('/v1/events/batch', { events: [ev('d-1'), ev('d-1'), ev('d-2')] });
    expect(r1.body).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
    expect(r1.messages.map((m) => JSON.parse(m.value as string).event_id)).toEqual(['d-1', 'd-2']);
    const r2 = await post('/v1/events', ev('d-2'));
    expect([r2.status, r2.body, r2.messages]).toEqual([202, { accepted: 0, duplicates: 1, rejected: [] }, []]);
  });

  it('corrects occurred_at by received_at − sent_at', async () => {
    const clientClock = NOW - 2 * 3600_000;
    const e = ev('s-1', { occurred_at: clientClock - 60_000 });
    const r = await post('/v1/events/batch', { sent_at: clientClock, events: [e] });
    expect(r.body.accepted).toBe(1);
    expect(r.messages[0].value).toBe(expectedValue(e, 2 * 3600_000));
    expect(JSON.parse(r.messages[0].value as string).occurred_at).toBe(NOW - 60_000);
  });

  it.each([
    { description: 'no events array', body: { nope: 1 }, status: 400, message: 'events: must be an array of events' },
    { description: 'an empty batch', body: { events: [] }, status: 400, message: 'events: must hold at least one event' },
    { description: 'a bad sent_at', body: { events: [{}], sent_at: 'soon' }, status: 400, message: 'sent_at: must be an RFC 3339 date-time or epoch milliseconds' },
    { description: 'too many events', body: { events: Array.from({ length: 1001 }, () => ({})) }, status: 413, message: 'events: at most 1000 events per batch, got 1001' },
  ])('answers $status for $description and dead-letters the body', async ({ body, status, message }) => {
    const r = await post('/v1/events/batch', body);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: status === 413 ? 'payload_too_large' : 'bad_request', message });
    expect(r.messages).toEqual([toDeadLetter('dlq', { app_id: 'app_u', errors: [message], raw: body, received_at: NOW, source: 'ingest' })]);
  });

  it('answers 503 when Kafka fails, and a retry is then accepted (not a duplicate)', async () => {
    failing = true;
    try {
      const r = await post('/v1/events/batch', { events: [ev('k-1')] });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ error: 'kafka_unavailable', message: 'broker down' });
    } finally {
      failing = false;
    }
    const again = await post('/v1/events/batch', { events: [ev('k-1')] });
    expect(again.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
  });
});

describe('POST /v1/events', () => {
  it('202 for a valid event', async () => {
    const e = ev('one-1');
    const r = await post('/v1/events', e);
    expect([r.status, r.body]).toEqual([202, { accepted: 1, duplicates: 0, rejected: [] }]);
    expect(r.messages).toEqual([{ topic: 'ev', key: 'alice', value: expectedValue(e) }]);
  });

  it('400 with the reasons for an invalid event, which is dead-lettered', async () => {
    const bad = { event_id: 'bad one', type: 'invite_sent', occurred_at: NOW, user_id: 'u' };
    const r = await post('/v1/events', bad);
    const errors = ['event_id: must match ^[A-Za-z0-9_.:-]{1,64}$', 'properties.invite_id: is required', 'properties.channel: is required'];
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'invalid_event', message: errors.join('; '), accepted: 0, duplicates: 0, rejected: [{ index: 0, errors }] });
    expect(r.messages).toEqual([toDeadLetter('dlq', { app_id: 'app_u', index: 0, errors, raw: bad, received_at: NOW, source: 'ingest' })]);
  });
});
