// Kafka wiring behind one small interface (design §3): services see `EventProducer` and the
// pipeline runner, never kafkajs types, so a librdkafka-based client could replace it here.
import { Kafka, logLevel, Partitioners, type Producer, type Message, type Admin, type ICustomPartitioner } from './kafkajs.ts';
import type { Logger } from 'pino';
import { AppError } from '../errors.ts';
import { portOpen } from '../stack/embedded.ts';
import { fixKafkajsRequestQueue } from './request-queue-fix.ts';

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
  fixKafkajsRequestQueue();
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
  /**
   * Kafka requests of this producer outstanding at once (default: no bound). While that many
   * await their acks, new sends queue and leave together, up to `maxBatch` per request, as soon
   * as one is acknowledged: under load a request carries what arrived during the previous
   * round trip instead of each caller paying a request of its own (the broker's and kafkajs'
   * cost is mostly per request), and when idle a send still leaves at once.
   */
  maxInFlight?: number;
}

/**
 * kafkajs' DefaultPartitioner (murmur2 of the key, as the Java client: the same partition for the
 * same key), remembered per key. For every message it copies the key into a Buffer, hashes it in
 * JavaScript and filters the partition list — ~6 % of ingest's CPU with 100-event batches in the
 * profile — while a user's events share their key (user_id). A keyed message's partition depends
 * only on the key and the partition count, so that is what the cache is keyed by; messages
 * without a key, or with an explicit partition, go to the default partitioner as they are.
 */
export const CachedDefaultPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  const byCount = new Map<number, Map<string, number>>();
  const MAX_KEYS = 65_536;
  return (args) => {
    const { key, partition } = args.message;
    if (typeof key !== 'string' || (partition !== undefined && partition !== null)) return partitioner(args);
    const count = args.partitionMetadata.length;
    let cache = byCount.get(count);
    if (!cache) byCount.set(count, (cache = new Map()));
    let p = cache.get(key);
    if (p === undefined) {
      if (cache.size >= MAX_KEYS) cache.clear();
      cache.set(key, (p = partitioner(args)));
    }
    return p;
  };
};

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
    createPartitioner: CachedDefaultPartitioner,
    allowAutoTopicCreation: false,
    // kafkajs' own bound per broker connection, for producers without `maxInFlight` (processors,
    // api): 5 held back 100-event batches of an 8-connection load behind the broker's acks.
    maxInFlightRequests: 16,
  });
  let isConnected = false;
  producer.on(producer.events.CONNECT, () => (isConnected = true));
  producer.on(producer.events.DISCONNECT, () => (isConnected = false));
  await producer.connect();
  isConnected = true;

  const flushAt = Math.min(opts.maxBatch, opts.flushAt ?? 100);
  const maxInFlight = opts.maxInFlight ?? Infinity;
  let queue: Pending[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  /** The linger of what is queued has passed (it leaves with the next free request slot). */
  let due = false;
  let inFlight = 0;
  const outstanding = new Set<Promise<void>>();
  let closed = false;

  /** Sends what is queued while a request slot is free (all of it when `force`). */
  function flush(force = false): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    due = false;
    while (queue.length > 0 && (force || inFlight < maxInFlight)) {
      // One request: whole callers, up to maxBatch messages (a larger caller goes alone).
      let n = 0;
      let count = 0;
      while (n < queue.length && (n === 0 || count + queue[n].messages.length <= opts.maxBatch)) count += queue[n++].messages.length;
      const batch = queue.slice(0, n);
      queue = queue.slice(n);
      queued -= count;
      sendRequest(batch);
    }
    if (queue.length > 0) due = true;
  }

  function sendRequest(batch: Pending[]): void {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      for (const m of p.messages) {
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value });
      }
    }
    inFlight++;
    const sent = producer
      .sendBatch({ acks: -1, timeout: 10_000, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: Error) => {
          const e = new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', `Kafka send failed: ${err.message}`, { cause: err });
          batch.forEach((p) => p.reject(e));
        },
      )
      .finally(() => {
        inFlight--;
        outstanding.delete(sent);
        // What waited for this slot leaves now, if its linger passed or it is worth a request.
        if (queue.length > 0 && (due || queued >= flushAt || opts.lingerMs === 0)) flush();
      });
    outstanding.add(sent);
  }

  return {
    send(messages) {
      if (closed) return Promise.reject(new AppError('VIRAL_ERR_KAFKA_UNAVAILABLE', 'producer is closed'));
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ messages, resolve, reject });
        queued += messages.length;
        // flush() sends only while a request slot is free; what stays queued leaves on the next ack.
        if (queued >= flushAt || opts.lingerMs === 0) flush();
        else timer ??= setTimeout(() => flush(), opts.lingerMs);
      });
    },
    connected: () => isConnected,
    async close() {
      closed = true;
      flush(true);
      await Promise.allSettled([...outstanding]);
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
