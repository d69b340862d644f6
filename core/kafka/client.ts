// Kafka wiring behind one small interface (design §3): services see `EventProducer` and the
// pipeline runner, never kafkajs types, so a librdkafka-based client could replace it here.
import { Kafka, logLevel, Partitioners, type Producer, type Message, type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { AppError } from '../errors.ts';
import { portOpen } from '../stack/embedded.ts';

/** Readiness: some broker accepts a TCP connection (kafkajs only notices a dead broker on use). */
export async function kafkaReachable(brokers: readonly string[]): Promise<boolean> {
  const answers = await Promise.all(
    brokers.map((b) => {
      const i = b.lastIndexOf(':');
      return portOpen(Number(b.slice(i + 1)), b.slice(0, i));
    }),
  );
  return answers.some(Boolean);
}

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log: Logger;
}

export function createKafka(o: KafkaOptions): Kafka {
  const toPino = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug', [logLevel.NOTHING]: 'silent' } as const;
  const klog = o.log.child({ module: 'kafkajs' });
  return new Kafka({
    clientId: o.clientId,
    brokers: o.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // Fail fast so ingest can answer 503 while the broker is down (design §3).
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        klog[toPino[level as keyof typeof toPino] ?? 'info']?.(extra, message);
      },
  });
}

export interface OutMessage {
  topic: string;
  key: string | null;
  value: string | Buffer;
}

/** What services need from a producer: send and wait for the acks of every replica (acks = all). */
export interface EventProducer {
  send(messages: OutMessage[]): Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

export interface BatchingOptions {
  /** How long a send waits for others to share its Kafka request. */
  lingerMs: number;
  /** Messages per Kafka request at most. */
  maxBatch: number;
  /**
   * Queued messages that are worth a request of their own: reached, the queue is sent at once
   * instead of lingering (measured: batches of 100 gain ~70 % without the linger; single events
   * need it). Default 100.
   */
  flushAt?: number;
}

interface Pending {
  messages: OutMessage[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Batches sends of concurrent callers into one `sendBatch` (kafkajs has no linger of its own) and
 * resolves each caller only when Kafka acknowledged the request that carried its messages.
 * A failed request rejects every caller in it with a retriable VIRAL_ERR_KAFKA_UNAVAILABLE.
 */
export async function createBatchingProducer(kafka: Kafka, opts: BatchingOptions): Promise<EventProducer> {
  const producer: Producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    // Enough for every request of a busy ingest process to be in flight at once (5 held back
    // 100-event batches of the 8-connection load test behind the broker's acks); still a bound.
    maxInFlightRequests: 16,
  });
  let isConnected = false;
  producer.on(producer.events.CONNECT, () => (isConnected = true));
  producer.on(producer.events.DISCONNECT, () => (isConnected = false));
  await producer.connect();
  isConnected = true;

  let queue: Pending[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    queued = 0;
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      for (const m of p.messages) {
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value });
      }
    }
    producer
      .sendBatch({ acks: -1, timeout: 10_000, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: Error) => {
          const e = new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', `Kafka send failed: ${err.message}`, { cause: err });
          batch.forEach((p) => p.reject(e));
        },
      );
  }

  return {
    send(messages) {
      if (closed) return Promise.reject(new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', 'producer is closed'));
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ messages, resolve, reject });
        queued += messages.length;
        if (queued >= Math.min(opts.maxBatch, opts.flushAt ?? 100) || opts.lingerMs === 0) flush();
        else timer ??= setTimeout(flush, opts.lingerMs);
      });
    },
    connected: () => isConnected,
    async close() {
      closed = true;
      flush();
      await producer.disconnect();
    },
  };
}

/** Creates the topics the pipeline needs if missing (auto-creation is off on the embedded broker). */
export async function ensureTopics(kafka: Kafka, topics: { topic: string; partitions: number; compact?: boolean }[]): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: 1,
          configEntries: t.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
