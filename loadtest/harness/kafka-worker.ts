// The physical references on the Kafka side, each in its own process like the services:
//   produce — raw kafkajs sendBatch of `batchSize` normalized events (acks = -1), `inFlight`
//             batches outstanding, for `durationSeconds`: the ceiling ingest is compared with;
//   fill    — writes `events` normalized demo events to a topic (the processors' replay input);
//   consume — a consumer that only counts messages until `events` arrived: the ceiling the
//             processors are compared with (same fetch settings as core/kafka/run-pipeline.ts).
// Input: JSON in argv[2]; output: one JSON line on stdout; progress on stderr.
import type { Kafka, Message } from '../../core/kafka/kafkajs.ts';
import { CachedDefaultPartitioner, createKafka } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/log.ts';
import { bodyFactory, demoEvents, normalizedTemplates, type TemplateSource } from './bodies.ts';
import { latency } from './stats.ts';
import { busyShare, machineTicks } from './services.ts';

export type KafkaJob =
  | { mode: 'produce'; brokers: string[]; topic: string; appId: string; templates: TemplateSource; now: number; batchSize: number; inFlight: number; durationSeconds: number; tag: string }
  | { mode: 'fill'; brokers: string[]; topic: string; appId: string; templates: TemplateSource; now: number; events: number; tag: string }
  | { mode: 'consume'; brokers: string[]; topic: string; groupId: string; events: number };

const job = JSON.parse(process.argv[2]) as KafkaJob;
const kafka: Kafka = createKafka({ brokers: job.brokers, clientId: `loadtest-${job.mode}`, log: createLogger('warn', 'loadtest') });
const say = (s: string) => process.stderr.write(`kafka ${job.mode}: ${s}\n`);

/** A message source over the normalized demo events, each message with a fresh event_id. */
function messages(appId: string, src: TemplateSource, now: number, tag: string): { next: () => Message; distinct: number } {
  const templates = normalizedTemplates(demoEvents(src, now), appId, now);
  const keys = templates.map((t) => t.key);
  const body = bodyFactory(
    templates.map((t) => t.value),
    tag,
  );
  let i = 0;
  return { next: () => ({ key: keys[i++ % keys.length], value: body() }), distinct: templates.length };
}

async function produce(j: Extract<KafkaJob, { mode: 'produce' }>) {
  const { next } = messages(j.appId, j.templates, j.now, j.tag);
  // Same partitioner as ingest's producer (core/kafka/client.ts): keyed by user_id, remembered per
  // key — kafkajs' own DefaultPartitioner hashes every message's key again (a Buffer copy and
  // murmur2 per message: 14.3–14.8 → 11.9–12.6 µs of this reference's CPU per message measured
  // here), which made the reference slower than the client ingest runs.
  const producer = kafka.producer({ createPartitioner: CachedDefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const samples: number[] = [];
  let sent = 0;
  const started = Date.now();
  const ticks = machineTicks();
  const end = started + j.durationSeconds * 1000;
  const ticker = setInterval(() => say(`${Math.round((Date.now() - started) / 1000)}/${j.durationSeconds} s, ${Math.round(sent / ((Date.now() - started) / 1000))} events/s`), 2000);
  await Promise.all(
    Array.from({ length: j.inFlight }, async () => {
      while (Date.now() < end) {
        const batch = Array.from({ length: j.batchSize }, next);
        const t = performance.now();
        await producer.send({ topic: j.topic, acks: -1, messages: batch });
        samples.push(performance.now() - t);
        sent += batch.length;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const machineBusy = busyShare(ticks, machineTicks());
  clearInterval(ticker);
  await producer.disconnect();
  return { events: sent, seconds, eventsPerSecond: Math.round(sent / seconds), batchLatency: latency(samples), machineBusy };
}

async function fill(j: Extract<KafkaJob, { mode: 'fill' }>) {
  // The demo gives ~13 events per seed user over 14 days; generate in rounds until enough.
  const producer = kafka.producer({ createPartitioner: CachedDefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  let sent = 0;
  for (let round = 0; sent < j.events; round++) {
    const src = { ...j.templates, seed: j.templates.seed + round };
    const { next, distinct } = messages(j.appId, src, j.now, `${j.tag}r${round}`);
    const roundSize = Math.min(j.events - sent, distinct);
    const chunks: Message[][] = [];
    for (let i = 0; i < roundSize; i += 1000) chunks.push(Array.from({ length: Math.min(1000, roundSize - i) }, next));
    // Four batches in flight: a prefill, not a measurement.
    for (let c = 0; c < chunks.length; c += 4) {
      await Promise.all(chunks.slice(c, c + 4).map((messages) => producer.send({ topic: j.topic, acks: -1, messages })));
      sent += chunks.slice(c, c + 4).reduce((a, m) => a + m.length, 0);
    }
    say(`${sent}/${j.events} events`);
  }
  await producer.disconnect();
  const seconds = (Date.now() - started) / 1000;
  return { events: sent, seconds, eventsPerSecond: Math.round(sent / seconds) };
}

async function consume(j: Extract<KafkaJob, { mode: 'consume' }>) {
  const consumer = kafka.consumer({ groupId: j.groupId, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: j.topic, fromBeginning: true });
  let joinedAt = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ||= Date.now()));
  let count = 0;
  const done = new Promise<number>((resolveDone) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= j.events) resolveDone(Date.now());
      },
    });
  });
  const ticker = setInterval(() => say(`${count}/${j.events} messages`), 2000);
  const finishedAt = await done;
  clearInterval(ticker);
  await consumer.disconnect();
  const seconds = (finishedAt - joinedAt) / 1000;
  return { events: count, seconds, eventsPerSecond: Math.round(count / seconds) };
}

const cpu = process.cpuUsage();
const result = job.mode === 'produce' ? await produce(job) : job.mode === 'fill' ? await fill(job) : await consume(job);
// This process's own CPU (includes generating the messages): per-core figures for docs/scaling.md.
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ ...result, cpuSeconds: Math.round((used.user + used.system) / 1e4) / 100 }) + '\n', () => process.exit(0));
