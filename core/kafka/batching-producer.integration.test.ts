// createBatchingProducer (core/kafka/client.ts) against the real broker: with a bound on the
// requests in flight, sends that arrive while the bound is reached wait and leave together — one
// request for many callers, none over maxBatch — every caller is resolved only after its request
// was acknowledged, and close() sends what still waits before it returns.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Kafka, Producer, ProducerBatch, ProducerConfig } from 'kafkajs';
import { createLogger } from '../log.ts';
import { createBatchingProducer, createKafka, ensureTopics, type EventProducer, type OutMessage } from './client.ts';

const kafka = createKafka({ brokers: [inject('kafkaBrokers')], clientId: 'batching-producer-test', log: createLogger('fatal', 'test') });
const producers: EventProducer[] = [];
afterAll(async () => {
  for (const p of producers) await p.close().catch(() => undefined);
});

/** The real Kafka client, recording each sendBatch: its messages, and the most outstanding at once. */
function watched(): { kafka: Kafka; requests: number[]; maxOutstanding: () => number } {
  const requests: number[] = [];
  let outstanding = 0;
  let most = 0;
  const wrapped = Object.create(kafka) as Kafka;
  wrapped.producer = (config?: ProducerConfig): Producer => {
    const real = kafka.producer(config);
    const spy = Object.create(real) as Producer;
    spy.sendBatch = async (batch: ProducerBatch) => {
      requests.push((batch.topicMessages ?? []).reduce((n, t) => n + t.messages.length, 0));
      most = Math.max(most, ++outstanding);
      try {
        return await real.sendBatch(batch);
      } finally {
        outstanding--;
      }
    };
    return spy;
  };
  return { kafka: wrapped, requests, maxOutstanding: () => most };
}

async function topicOf(partitions = 2): Promise<string> {
  const topic = `test.batching.${randomBytes(4).toString('hex')}`;
  await ensureTopics(kafka, [{ topic, partitions }]);
  return topic;
}

/** Messages stored in the topic (sum of the partitions' end offsets). */
async function stored(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

const batchOf = (topic: string, caller: number, n: number): OutMessage[] =>
  Array.from({ length: n }, (_, i) => ({ topic, key: `user-${caller}-${i % 3}`, value: JSON.stringify({ caller, i }) }));

describe('batching producer', () => {
  it('with one request in flight, merges the sends that waited for it, up to maxBatch per request, and acknowledges every caller', async () => {
    const topic = await topicOf();
    const w = watched();
    const producer = await createBatchingProducer(w.kafka, { lingerMs: 0, maxBatch: 100, maxInFlight: 1 });
    producers.push(producer);
    const callers = 60;
    const perCaller = 10;
    // Sent in waves from separate ticks, as requests of an HTTP server arrive.
    const sends: Promise<void>[] = [];
    for (let c = 0; c < callers; c++) {
      sends.push(producer.send(batchOf(topic, c, perCaller)));
      if (c % 7 === 6) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sends);
    expect(w.maxOutstanding()).toBe(1);
    expect(w.requests.reduce((a, b) => a + b, 0)).toBe(callers * perCaller);
    expect(Math.max(...w.requests)).toBeLessThanOrEqual(100);
    // The first send leaves alone at once; the rest share requests of several callers each.
    expect(w.requests[0]).toBe(perCaller);
    expect(w.requests.length).toBeLessThan(callers / 2);
    expect(await stored(topic)).toBe(callers * perCaller);
  });

  it('without a bound, each send of at least flushAt messages is its own request (the previous behaviour)', async () => {
    const topic = await topicOf();
    const w = watched();
    const producer = await createBatchingProducer(w.kafka, { lingerMs: 0, maxBatch: 1000 });
    producers.push(producer);
    await Promise.all(Array.from({ length: 8 }, (_, c) => producer.send(batchOf(topic, c, 100))));
    expect(w.requests).toEqual(Array(8).fill(100));
    expect(await stored(topic)).toBe(800);
  });

  it('sends a caller larger than maxBatch whole, in a request of its own', async () => {
    const topic = await topicOf();
    const w = watched();
    const producer = await createBatchingProducer(w.kafka, { lingerMs: 0, maxBatch: 25, maxInFlight: 1 });
    producers.push(producer);
    await Promise.all([producer.send(batchOf(topic, 0, 5)), producer.send(batchOf(topic, 1, 40)), producer.send(batchOf(topic, 2, 10)), producer.send(batchOf(topic, 3, 10))]);
    // 5 leaves at once; then the 40 alone (over maxBatch), then 10 + 10 together.
    expect(w.requests).toEqual([5, 40, 20]);
    expect(await stored(topic)).toBe(65);
  });

  it('with a linger, small sends wait for it even when a slot is free, and close() sends what still waits', async () => {
    const topic = await topicOf();
    const w = watched();
    const producer = await createBatchingProducer(w.kafka, { lingerMs: 50, maxBatch: 1000, maxInFlight: 1 });
    const sends = Array.from({ length: 5 }, (_, c) => producer.send(batchOf(topic, c, 2)));
    await Promise.all(sends);
    expect(w.requests).toEqual([10]);
    // Queued behind a lingering window: close() must not drop them.
    const late = [producer.send(batchOf(topic, 9, 3)), producer.send(batchOf(topic, 10, 3))];
    await producer.close();
    await Promise.all(late);
    expect(w.requests.reduce((a, b) => a + b, 0)).toBe(16);
    expect(await stored(topic)).toBe(16);
    await expect(producer.send(batchOf(topic, 11, 1))).rejects.toThrow(/closed/);
  });
});
