// The raw sink under faults (issue 2): killed with SIGKILL mid-stream and restarted, it leaves
// `viral.events` with every acknowledged event exactly once (after dedup); a poison message goes
// to the dead-letter topic and the partition keeps flowing.
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from '../core/kafka/kafkajs.ts';
import { loadConfig } from '../core/config.ts';
import { eventually, makeTenant, readTopic, testClickHouse, testEnv } from '../core/testing/services.ts';
import { list, sql, str } from '../core/clickhouse/sql.ts';
import { startIngest } from '../ingest/main.ts';
import { DLQ_RAW_LIMIT } from '../core/kafka/dead-letter.ts';

const tenant = makeTenant('sink');
const env = testEnv([tenant], { PROCESSORS_METRICS_PORT: '0', TOPIC_PARTITIONS: '3' });
const config = loadConfig(env);
const ch = testClickHouse();
const root = fileURLToPath(new URL('..', import.meta.url));
let ingest: Awaited<ReturnType<typeof startIngest>>;
let child: ChildProcess | undefined;

function startSink(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'processors/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
}
function kill9(c: ChildProcess): Promise<void> {
  return new Promise((done) => {
    c.once('exit', () => done());
    c.kill('SIGKILL');
  });
}

async function postBatch(from: number, n: number): Promise<string[]> {
  const events = Array.from({ length: n }, (_, i) => ({
    event_id: `e-${from + i}`,
    type: 'invite_sent',
    occurred_at: Date.now() - 5000,
    user_id: `u-${(from + i) % 97}`,
    properties: { invite_id: `i-${from + i}`, channel: 'sms' },
  }));
  const res = await fetch(`${ingest.url}/v1/events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(202);
  return events.map((e) => e.event_id);
}

async function counts() {
  const [r] = await ch.query<{ rows: string; distinct_events: string }>(
    sql`SELECT count() AS rows, uniqExact(event_id) AS distinct_events FROM viral.events WHERE app_id = ${str(tenant.appId)}`,
  );
  const [d] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM (SELECT 1 FROM viral.events WHERE app_id = ${str(tenant.appId)} LIMIT 1 BY app_id, event_id)`);
  return { rows: Number(r.rows), distinct: Number(r.distinct_events), deduped: Number(d.n) };
}

beforeAll(async () => {
  ingest = await startIngest(config);
});
afterAll(async () => {
  if (child && child.exitCode === null) await kill9(child);
  await ingest?.close();
  await ch.close();
});

describe('raw sink', () => {
  it('killed with SIGKILL mid-stream and restarted, writes every acknowledged event exactly once', async () => {
    const acknowledged: string[] = [];
    child = startSink();
    let next = 0;
    // Stream while the sink works; kill it after its first writes land.
    for (let round = 0; round < 40; round++) {
      acknowledged.push(...(await postBatch(next, 100)));
      next += 100;
      if (round === 15) {
        await eventually(async () => (await counts()).rows > 0, 30_000, 'first rows');
        await kill9(child);
      }
      if (round === 25) child = startSink();
    }
    const final = await eventually(async () => {
      const c = await counts();
      return c.distinct === acknowledged.length ? c : undefined;
    }, 60_000, 'every acknowledged event in viral.events');
    expect(final.distinct).toBe(4000);
    expect(final.deduped).toBe(4000);
    // Replays after the kill may have written some events twice; dedup collapses them.
    expect(final.rows).toBeGreaterThanOrEqual(4000);
  });

  it('sends poison messages to the dead-letter topic and keeps the partition flowing', async () => {
    const kafka = new Kafka({ brokers: [inject('kafkaBrokers')], clientId: 'poison', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    // Normalized-looking events a faulty producer could write whose viral.events row ClickHouse
    // would refuse: were they taken, their step's insert would fail, be fetched again, forever.
    const near = (over: Record<string, unknown>) =>
      JSON.stringify({ app_id: tenant.appId, event_id: `near-${Object.values(over).join('-')}`, type: 'signup', occurred_at: Date.now() - 5000, received_at: Date.now(), user_id: 'u-1', amount: 0, properties: {}, ...over });
    const poisons = ['{"this is": "not an event"', near({ type: 'toString' }), near({ occurred_at: Date.now() - 4999.5 }), near({ device_hash: 42 }), near({ type: 'invite_sent', invite_id: 'i-near', channel: 'pigeon' }),
      // ClickHouse refuses a lone surrogate in a column ("Cannot parse escape sequence").
      near({ event_id: 'near-surrogate', user_id: 'u-\ud800' }),
      // Deeper than ingest allows: the raw row's JSON.stringify would overflow the stack.
      near({ event_id: 'near-deep' }).replace('"properties":{}', `"properties":{"deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
    ];
    await producer.send({ topic: config.eventsTopic, acks: -1, messages: poisons.map((value) => ({ key: 'u-1', value })) });
    await producer.disconnect();
    const ids = await postBatch(100_000, 10);
    await eventually(async () => {
      const [r] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(tenant.appId)} AND event_id IN ${list(ids.map((id) => str(id)))}`);
      return Number(r.n) === ids.length;
    }, 60_000, 'events after the poison messages');
    const letters = (await readTopic(inject('kafkaBrokers'), config.dlqTopic, poisons.length)).map((m) => JSON.parse(m.value));
    const dead = letters.filter((l) => l.source === 'processor:decode');
    // Dead letters keep the first DLQ_RAW_LIMIT characters of a larger message (the deep one).
    expect(dead.map((l) => l.raw).sort()).toEqual(poisons.map((p) => p.slice(0, DLQ_RAW_LIMIT)).sort());
    for (const l of dead) expect(l.errors).toEqual(['not a normalized viral event']);
    const [kept] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(tenant.appId)} AND startsWith(event_id, 'near-')`);
    expect(Number(kept.n)).toBe(0);
  });
});
