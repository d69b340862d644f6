// The consumer loop (core/kafka/run-pipeline.ts) after a write that cannot succeed: the step's
// error restarts the kafkajs consumer from the committed offsets, and once the cause is gone every
// event is written and committed — the loop does not keep failing on the old error. And while an
// erase outlasts the session timeout, the consumer stays in its group.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { emptyEvent, type ViralEvent } from '../events/types.ts';
import { createLogger } from '../log.ts';
import { createRegistry } from '../metrics.ts';
import { rowVersion, type Processor } from '../processor.ts';
import { raw, sql, str } from '../clickhouse/sql.ts';
import { eventually, testClickHouse } from '../testing/services.ts';
import { createRawEventsProcessor } from '../../processors/raw-events/index.ts';
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import type { ClickHouse } from '../clickhouse/client.ts';
import { createBatchingProducer, createKafka, ensureTopics } from './client.ts';
import { runPipeline, type Pipeline, type PipelineOptions } from './run-pipeline.ts';

const tables: string[] = [];
const brokers = [inject('kafkaBrokers')];
const ch = testClickHouse();
const log = createLogger('fatal', 'test');
const kafka = createKafka({ brokers, clientId: 'pipeline-test', log });
const pipelines: Pipeline[] = [];

afterAll(async () => {
  for (const p of pipelines) await p.stop();
  for (const t of tables) await ch.command(raw(`DROP TABLE IF EXISTS viral.${t}`));
  await ch.close();
});

/** A pipeline of `test.pipeline.<suffix>` in its own group, with the raw sink; stopped after the file. */
async function startPipeline(suffix: string, o: Pick<PipelineOptions, 'kafka' | 'ch' | 'producer' | 'createProcessors' | 'derivedTables' | 'maxBatch'>): Promise<Pipeline> {
  const pipeline = await runPipeline({
    ...o,
    rawSink: createRawEventsProcessor(),
    groupId: `test-pipeline-${suffix}`,
    topic: `test.pipeline.${suffix}`,
    dlqTopic: `test.pipeline.dlq.${suffix}`,
    log,
    registry: createRegistry('pipeline-test'),
  });
  pipelines.push(pipeline);
  return pipeline;
}

/** One row per event into `table`, which does not exist when the pipeline starts. */
const probeFor = (table: string): Processor => ({
  name: 'probe',
  apply: (events, now) => [{ table, rows: events.map((e) => ({ app_id: e.app_id, event_id: e.event_id, version: rowVersion(now) })) }],
});

describe('run-pipeline', () => {
  // 25: several steps, the failure surfaces in the next step; 100: one step, caught up, awaited at once.
  it.each([25, 100])('recovers from a step whose write failed for good once the cause is gone, losing nothing (steps of %i)', async (maxBatch) => {
    const suffix = randomBytes(4).toString('hex');
    const appId = `pipe_${suffix}`;
    const topic = `test.pipeline.${suffix}`;
    const probeTable = `pipeline_probe_${suffix}`;
    tables.push(probeTable);
    const probe = probeFor(probeTable);
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const producer = await createBatchingProducer(kafka, { lingerMs: 0, maxBatch: 1000 });
    const now = Date.now();
    const events: ViralEvent[] = Array.from({ length: 60 }, (_, i) => ({
      ...emptyEvent(),
      app_id: appId,
      event_id: `e${i}`,
      type: 'invite_sent',
      occurred_at: now - 60_000 + i,
      received_at: now,
      user_id: `u${i % 7}`,
      invite_id: `i${i}`,
      channel: 'sms',
    }));
    await producer.send(events.map((e) => ({ topic, key: e.user_id, value: JSON.stringify(e) })));

    await startPipeline(suffix, { kafka, ch, producer, createProcessors: () => [probe], derivedTables: [], maxBatch });
    // The probe's inserts fail (unknown table: not retriable); nothing may be written as raw or committed.
    await new Promise((r) => setTimeout(r, 3000));
    const [before] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(appId)}`);
    expect(Number(before.n)).toBe(0);

    await ch.command(raw(`CREATE TABLE viral.${probeTable} (app_id String, event_id String, version UInt64) ENGINE = MergeTree ORDER BY event_id`));
    await eventually(
      async () => {
        const [p] = await ch.query<{ n: string }>(raw(`SELECT uniqExact(event_id) AS n FROM viral.${probeTable}`));
        const [r] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(appId)}`);
        return Number(p.n) === events.length && Number(r.n) === events.length;
      },
      90_000,
      'every event written after the table appeared',
    );
    const admin = kafka.admin();
    await admin.connect();
    await eventually(
      async () => {
        const [{ partitions }] = await admin.fetchOffsets({ groupId: `test-pipeline-${suffix}`, topics: [topic] });
        return Number(partitions[0].offset) === events.length;
      },
      30_000,
      'offsets committed to the end',
    );
    await admin.disconnect();
    await producer.close();
  }, 180_000);

  it('keeps the writes of two steps in flight while it folds the next, committing each step only after its writes', async () => {
    const suffix = randomBytes(4).toString('hex');
    const appId = `pipe_${suffix}`;
    const topic = `test.pipeline.${suffix}`;
    const groupId = `test-pipeline-${suffix}`;
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const producer = await createBatchingProducer(kafka, { lingerMs: 0, maxBatch: 1000 });
    const now = Date.now();
    const events = Array.from({ length: 100 }, (_, i) => ({ ...emptyEvent(), app_id: appId, event_id: `e${i}`, type: 'invite_sent' as const, occurred_at: now, received_at: now, user_id: `u${i % 7}`, invite_id: `i${i}`, channel: 'sms' as const }));
    await producer.send(events.map((e) => ({ topic, key: e.user_id, value: JSON.stringify(e) })));
    // The real ClickHouse, each raw insert held 400 ms (steps of 10 events fold in far less).
    let rawInFlight = 0;
    let mostRawInFlight = 0;
    const slowCh: ClickHouse = {
      ...ch,
      insert: async (table, rows) => {
        if (table !== 'viral.events') return ch.insert(table, rows);
        mostRawInFlight = Math.max(mostRawInFlight, ++rawInFlight);
        try {
          await new Promise((r) => setTimeout(r, 400));
          return await ch.insert(table, rows);
        } finally {
          rawInFlight--;
        }
      },
    };
    await startPipeline(suffix, { kafka, ch: slowCh, producer, createProcessors: () => [], derivedTables: [], maxBatch: 10 });
    const admin = kafka.admin();
    await admin.connect();
    // Read the committed offset first, then the rows: a commit never runs ahead of its raw rows.
    const ahead: string[] = [];
    let polls = 0;
    const check = async () => {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = Math.max(0, Number(partitions[0].offset));
      const [r] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(appId)}`);
      polls++;
      if (committed > Number(r.n)) ahead.push(`committed ${committed} with ${r.n} events written`);
      return committed === events.length && Number(r.n) === events.length;
    };
    await eventually(check, 60_000, 'every event written and committed');
    expect(ahead).toEqual([]);
    // Ten steps of 400 ms inserts, three at a time: the checks ran while steps were in flight.
    expect(polls).toBeGreaterThan(3);
    // The step being folded waits only once two earlier steps' writes are in flight: three raw
    // inserts at once (this step's and the two before), never more.
    expect(mostRawInFlight).toBe(3);
    await admin.disconnect();
    await producer.close();
  }, 120_000);

  it('stays in its consumer group while an erase outlasts the session timeout', async () => {
    const suffix = randomBytes(4).toString('hex');
    const appId = `pipe_${suffix}`;
    const topic = `test.pipeline.${suffix}`;
    const groupId = `test-pipeline-${suffix}`;
    const probeTable = `pipeline_probe_${suffix}`;
    tables.push(probeTable);
    await ch.command(raw(`CREATE TABLE viral.${probeTable} (app_id String, event_id String, version UInt64) ENGINE = MergeTree ORDER BY event_id`));
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const producer = await createBatchingProducer(kafka, { lingerMs: 0, maxBatch: 1000 });
    const now = Date.now();
    const send = (from: number) =>
      producer.send(
        Array.from({ length: 20 }, (_, i) => ({ ...emptyEvent(), app_id: appId, event_id: `e${from + i}`, type: 'invite_sent' as const, occurred_at: now, received_at: now, user_id: `u${i % 3}`, invite_id: `i${from + i}`, channel: 'sms' })).map(
          (e) => ({ topic, key: e.user_id, value: JSON.stringify(e) }),
        ),
      );
    // The real consumer, watched: every (re)join of the group is counted.
    let joins = 0;
    const watched = Object.create(kafka) as Kafka;
    watched.consumer = (config: ConsumerConfig): Consumer => {
      const c = kafka.consumer(config);
      c.on(c.events.GROUP_JOIN, () => joins++);
      return c;
    };
    // The real ClickHouse, slower to answer the erase's rebuild read than the session timeout (10 s).
    let slow = false;
    const slowCh: ClickHouse = { ...ch, stream: async (s, onRows, opt) => {
        if (slow) await new Promise((r) => setTimeout(r, 12_000));
        return ch.stream(s, onRows, opt);
      },
    };
    await send(0);
    const pipeline = await startPipeline(suffix, { kafka: watched, ch: slowCh, producer, createProcessors: () => [probeFor(probeTable)], derivedTables: [probeTable], maxBatch: 1000 });
    const admin = kafka.admin();
    await admin.connect();
    const committedTo = async (n: number) => {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Number(partitions[0].offset) === n;
    };
    await eventually(() => committedTo(20), 30_000, 'the first events committed');
    expect(joins).toBe(1);

    slow = true;
    const erased = pipeline.erase(appId, 'u1');
    // Fetched while the erase holds the pipeline: this batch waits for it.
    await new Promise((r) => setTimeout(r, 500));
    await send(20);
    await erased;
    slow = false;
    await eventually(() => committedTo(40), 30_000, 'the events sent during the erase committed');
    expect(joins).toBe(1);
    const [left] = await ch.query<{ n: string }>(sql`SELECT uniqExact(event_id) AS n FROM viral.events WHERE app_id = ${str(appId)} AND user_id = 'u1'`);
    expect(Number(left.n)).toBe(7); // u1's events sent after the erase began: e21, e24, … e39 (20 + i, i % 3 = 1)
    await admin.disconnect();
    await producer.close();
  }, 120_000);
});
