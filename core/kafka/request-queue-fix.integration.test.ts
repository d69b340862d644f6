// The kafkajs idle-loop fix (request-queue-fix.ts) against the real broker: createKafka applies it
// to the kafkajs the services load, a connected producer then makes no checks while idle (kafkajs
// 2.2.4: one every ~1 ms per connection), and requests held back by kafkajs' in-flight bound are
// still all sent and acknowledged.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../log.ts';
import { createKafka, ensureTopics } from './client.ts';
import { fixKafkajsRequestQueue, kafkajsRequestQueue, scheduleCheckPendingRequests, type RequestQueueLike } from './request-queue-fix.ts';

const RequestQueue = kafkajsRequestQueue() as { prototype: RequestQueueLike };
const kafka = createKafka({ brokers: [inject('kafkaBrokers')], clientId: 'request-queue-fix-test', log: createLogger('fatal', 'test') });
const topic = `rqfix.${randomBytes(4).toString('hex')}`;
const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
afterAll(() => producer.disconnect());

describe('kafkajs request queue without the idle timer loop', () => {
  it('is applied by createKafka to the kafkajs this process loads', () => {
    expect(fixKafkajsRequestQueue()).toBe(true);
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(scheduleCheckPendingRequests);
  });

  it('makes no pending-request checks on an idle connection, and bounded requests still all land', async () => {
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] });

    const original = RequestQueue.prototype.checkPendingRequests;
    let checks = 0;
    RequestQueue.prototype.checkPendingRequests = function (this: unknown) {
      checks++;
      return original.call(this);
    };
    try {
      await new Promise((r) => setTimeout(r, 500));
      // kafkajs 2.2.4 made ~1 per ms on each of the producer's connections here.
      expect(checks).toBeLessThan(5);

      // 20 sends at once through one in-flight slot: 19 wait in the queue and leave as responses arrive.
      const sends = Array.from({ length: 20 }, (_, i) => producer.send({ topic, acks: -1, messages: [{ value: `m${i}` }] }));
      const results = await Promise.all(sends);
      expect(results.every((r) => r.every((t) => t.errorCode === 0))).toBe(true);
    } finally {
      RequestQueue.prototype.checkPendingRequests = original;
    }
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(Number(offsets.high)).toBe(21);
  });
});
