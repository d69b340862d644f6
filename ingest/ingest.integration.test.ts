// Ingest against the real Kafka (and the raw sink against the real ClickHouse): every status code
// of design §3, per-index errors, dead letters, duplicates, clock-skew correction.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { makeTenant, testConfig, testClickHouse, readTopic, eventually } from '../core/testing/services.ts';
import { startIngest } from './main.ts';
import { startProcessors } from '../processors/main.ts';
import { raw, sql, str } from '../core/clickhouse/sql.ts';

const tenant = makeTenant('ing');
const other = makeTenant('ing2');
const config = testConfig([tenant, other], { INGEST_RATE_LIMIT: '1000' });
let ingest: Awaited<ReturnType<typeof startIngest>>;
let processors: Awaited<ReturnType<typeof startProcessors>>;
const ch = testClickHouse();

const now = Date.now();
const ev = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id,
  type: 'invite_sent',
  occurred_at: new Date(now - 60_000).toISOString(),
  user_id: 'alice',
  device_id: 'device-1',
  properties: { invite_id: `inv-${id}`, channel: 'email' },
  ...extra,
});

async function post(path: string, body: unknown, key = tenant.ingestKey, headers: Record<string, string> = {}) {
  const res = await fetch(ingest.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
}

beforeAll(async () => {
  ingest = await startIngest(config);
  processors = await startProcessors(config);
});
afterAll(async () => {
  await ingest?.close();
  await processors?.close();
  await ch.close();
});

describe('ingest status codes (design §3)', () => {
  it('202 for a valid single event, after the Kafka ack', async () => {
    const r = await post('/v1/events', ev('single-1'));
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
  });

  it.each([
    { description: 'no key', headers: { authorization: '' } as Record<string, string>, key: '', status: 401 },
    { description: 'an unknown key', headers: {} as Record<string, string>, key: 'not-a-key-at-all', status: 401 },
    { description: 'a read key', headers: {} as Record<string, string>, key: tenant.readKey, status: 403 },
  ])('answers $status with $description', async ({ headers, key, status }) => {
    const r = await post('/v1/events', ev('auth-x'), key, headers);
    expect(r.status).toBe(status);
    expect(r.body.message).toMatch(/key|scope|Authorization/);
  });

  it('400 on malformed JSON, naming the problem', async () => {
    const r = await post('/v1/events/batch', '{"events": [');
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/JSON/i);
  });

  it('415 on a body that is not JSON', async () => {
    const r = await post('/v1/events', 'event_id=1', tenant.ingestKey, { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
  });

  it('413 on a body over 1 MiB and on a batch of 1,001 events', async () => {
    const big = { events: [ev('big', { properties: { invite_id: 'x', channel: 'email', pad: 'x'.repeat(1_100_000) } })] };
    expect((await post('/v1/events/batch', big)).status).toBe(413);
    const many = { events: Array.from({ length: 1001 }, (_, i) => ev(`many-${i}`)) };
    const r = await post('/v1/events/batch', many);
    expect(r.status).toBe(413);
    expect(r.body.message).toContain('1000');
  });

  it('400 with the reasons for an invalid single event', async () => {
    const r = await post('/v1/events', { event_id: 'bad single', type: 'invite_sent', occurred_at: now, user_id: 'u' });
    expect(r.status).toBe(400);
    expect(r.body.rejected[0].errors).toEqual(expect.arrayContaining([expect.stringMatching(/^event_id: must match/), 'properties.invite_id: is required', 'properties.channel: is required']));
  });

  it('400 for a user_id with a lone surrogate (ClickHouse would refuse its rows and stop the processors)', async () => {
    // JSON.stringify writes the lone surrogate as the escape \ud800, which JSON.parse turns back into it.
    const r = await post('/v1/events', ev('lone-surrogate', { user_id: 'u\ud800' }));
    expect(r.status).toBe(400);
    expect(r.body.rejected[0].errors).toEqual(['user_id: must be well-formed Unicode (it holds a lone surrogate)']);
  });
});

describe('batches', () => {
  it('accepts the valid events of a mixed batch, reports per-index errors, and dead-letters the rest', async () => {
    const batch = {
      events: [
        ev('mix-0'),
        { ...ev('mix-1'), type: 'teleport' },
        ev('mix-2', { occurred_at: now - 40 * 24 * 3600 * 1000 }),
        { event_id: 'mix-3', type: 'purchase', occurred_at: now - 1000, user_id: 'bob', properties: { order_id: 'o1', amount: -5, currency: 'usd' } },
        ev('mix-4', { type: 'purchase', properties: { order_id: 'o2', amount: '12.50', currency: 'EUR' } }),
        'not an object',
      ],
    };
    const r = await post('/v1/events/batch', batch);
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected.map((x: { index: number }) => x.index)).toEqual([1, 2, 3, 5]);
    expect(r.body.rejected[0].errors).toEqual(['type: must be one of invite_sent, invite_opened, invite_clicked, signup, purchase, experiment_exposure, refund, reward_claimed']);
    expect(r.body.rejected[1].errors).toEqual(['occurred_at: more than 30 days in the past']);
    expect(r.body.rejected[2].errors).toEqual(expect.arrayContaining([expect.stringMatching(/^properties.amount/), expect.stringMatching(/^properties.currency: must match/)]));

    const letters = await readTopic(inject('kafkaBrokers'), config.dlqTopic, 5);
    const mine = letters.map((l) => JSON.parse(l.value)).filter((l) => l.app_id === tenant.appId && typeof l.index === 'number' && String(l.raw?.event_id ?? l.raw).startsWith('mix') || l.raw === 'not an object');
    expect(mine.map((l) => l.index).sort()).toEqual([1, 2, 3, 5]);
    expect(mine.find((l) => l.index === 2).errors).toEqual(['occurred_at: more than 30 days in the past']);
    expect(mine.find((l) => l.index === 5).raw).toBe('not an object');
  });

  it('counts a duplicate event_id once, in the answer and in viral.events', async () => {
    const r1 = await post('/v1/events/batch', { events: [ev('dup-1'), ev('dup-1'), ev('dup-2')] });
    expect(r1.body).toMatchObject({ accepted: 2, duplicates: 1 });
    const r2 = await post('/v1/events', ev('dup-1'));
    expect(r2.body).toMatchObject({ accepted: 0, duplicates: 1 });
    // Event ids are per app: another app's dup-1 is a new event.
    const r3 = await post('/v1/events', ev('dup-1'), other.ingestKey);
    expect(r3.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const rows = await eventually(async () => {
      const res = await ch.query<{ n: string; u: string }>(
        sql`SELECT count() AS n, uniqExact(event_id) AS u FROM (SELECT event_id FROM viral.events WHERE app_id = ${str(tenant.appId)} AND event_id IN ('dup-1', 'dup-2') LIMIT 1 BY app_id, event_id)`,
      );
      return Number(res[0].n) === 2 ? res : undefined;
    });
    expect(rows[0]).toEqual({ n: '2', u: '2' });
  });

  it('corrects occurred_at by the batch clock skew (received_at − sent_at)', async () => {
    const clientClock = now - 2 * 3600 * 1000; // the device clock is 2 h behind
    const r = await post('/v1/events/batch', { sent_at: clientClock, events: [ev('skew-1', { occurred_at: clientClock - 60_000 })] });
    expect(r.body.accepted).toBe(1);
    const row = await eventually(async () => {
      const res = await ch.query<{ d: number }>(
        sql`SELECT toInt64(toUInt32(received_at)) - toInt64(toUInt32(occurred_at)) AS d FROM viral.events WHERE app_id = ${str(tenant.appId)} AND event_id = 'skew-1'`,
      );
      return res[0];
    });
    // Corrected: one minute before receipt (± clock rounding), not two hours.
    expect(Number(row.d)).toBeGreaterThanOrEqual(58);
    expect(Number(row.d)).toBeLessThanOrEqual(62);
  });

  it('keeps apps apart: the same event_id in two apps is two events', async () => {
    await post('/v1/events', ev('shared-id'));
    await post('/v1/events', ev('shared-id'), other.ingestKey);
    const res = await eventually(async () => {
      const r = await ch.query<{ n: string }>(sql`SELECT uniqExact(app_id) AS n FROM viral.events WHERE event_id = 'shared-id' AND app_id IN (${str(tenant.appId)}, ${str(other.appId)})`);
      return Number(r[0].n) === 2 ? r : undefined;
    });
    expect(res[0].n).toBe('2');
  });

  it('stores device ids and IPs only as salted hashes', async () => {
    await post('/v1/events', ev('hash-1', { device_id: 'my-raw-device-1234' }));
    const row = await eventually(async () => (await ch.query<{ device_hash: string; ip_hash: string; properties: string }>(sql`SELECT device_hash, ip_hash, properties FROM viral.events WHERE app_id = ${str(tenant.appId)} AND event_id = 'hash-1'`))[0]);
    expect(row.device_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.ip_hash).toMatch(/^[0-9a-f]{64}$/);
    const hits = await ch.query<{ n: string }>(raw(`SELECT count() AS n FROM viral.events WHERE position(concat(device_hash, ip_hash, properties), 'my-raw-device') > 0 OR position(concat(device_hash, ip_hash, properties), '127.0.0.1') > 0`));
    expect(hits[0].n).toBe('0');
  });
});

describe('rate limit', () => {
  it('429 with Retry-After once a key exceeds its limit', async () => {
    const t = makeTenant('rl');
    const cfg = testConfig([t], { INGEST_RATE_LIMIT: '3' });
    const svc = await startIngest(cfg);
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(svc.url + '/v1/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ingestKey}` },
          body: JSON.stringify(ev(`rl-${i}`)),
        });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
      }
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await svc.close();
    }
  });
});
