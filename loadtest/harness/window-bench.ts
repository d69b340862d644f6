// Throughput of the viral-coefficient and cohort processors (issue 3 "Benchmark") replaying the
// processors scenario's topic, in its own process: a kafkajs consumer with the runtime's fetch
// settings (core/kafka/run-pipeline.ts) decodes each batch as the runtime does and applies it,
// in the registry's order (processors/registry.ts), to the referral-graph processor — the shared
// graph the two read — then to KFactorProcessor, then to CohortProcessor. Each apply is timed on
// its own, so each processor's events/s excludes the graph and the consume; the wall time from
// the group join to the last batch applied gives the combined replay rate. Rows are built but not
// written: the ClickHouse sink is the processors scenario's business.
// Input: JSON in argv[2]; output: one JSON line (WindowResult) on stdout; progress on stderr.
import type { ViralEvent } from '../../core/events/types.ts';
import { isViralEvent } from '../../core/events/validate.ts';
import { createKafka } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/log.ts';
import type { Processor } from '../../core/processor.ts';
import { CohortProcessor } from '../../processors/cohorts/compute.ts';
import { KFactorProcessor } from '../../processors/k-factor/compute.ts';
import { ReferralGraph } from '../../processors/referral-graph/graph.ts';
import { createReferralGraphProcessor } from '../../processors/referral-graph/graph-processor.ts';

export interface WindowJob {
  brokers: string[];
  topic: string;
  groupId: string;
  events: number;
}

export type Stage = 'decode' | 'graph' | 'kFactor' | 'cohorts';

export interface WindowResult {
  events: number;
  batches: number;
  /** Group join → last batch applied. */
  seconds: number;
  eventsPerSecond: number;
  /** Time inside each stage, summed over batches. */
  stageSeconds: Record<Stage, number>;
  rows: Record<string, number>;
  peakRss: number;
}

const job = JSON.parse(process.argv[2]) as WindowJob;
const say = (s: string) => process.stderr.write(`window processors: ${s}\n`);

// The registry's wiring: the graph first, its readers subscribe before the first apply.
const graph = new ReferralGraph();
const kFactor = new KFactorProcessor(graph, {});
const cohorts = new CohortProcessor(graph);
const stages: [Exclude<Stage, 'decode'>, Processor][] = [
  ['graph', createReferralGraphProcessor(graph)],
  ['kFactor', kFactor],
  ['cohorts', cohorts],
];

const ms: Record<Stage, number> = { decode: 0, graph: 0, kFactor: 0, cohorts: 0 };
const rows: Record<string, number> = {};
let count = 0;
let batches = 0;
let peakRss = 0;

const kafka = createKafka({ brokers: job.brokers, clientId: 'loadtest-windows', log: createLogger('warn', 'loadtest') });
const consumer = kafka.consumer({ groupId: job.groupId, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topic: job.topic, fromBeginning: true });
let joinedAt = 0;
consumer.on(consumer.events.GROUP_JOIN, () => (joinedAt ||= Date.now()));
const ticker = setInterval(() => say(`${count.toLocaleString('en-US')}/${job.events.toLocaleString('en-US')} events`), 2000);
const finishedAt = await new Promise<number>((done) => {
  void consumer.run({
    eachBatch: async ({ batch }) => {
      let t = performance.now();
      const events: ViralEvent[] = [];
      for (const msg of batch.messages) {
        const value: unknown = JSON.parse(msg.value?.toString('utf8') ?? 'null');
        if (isViralEvent(value)) events.push(value);
      }
      ms.decode += performance.now() - t;
      const now = Date.now();
      for (const [stage, p] of stages) {
        t = performance.now();
        const out = p.apply(events, now);
        ms[stage] += performance.now() - t;
        for (const b of out) rows[b.table] = (rows[b.table] ?? 0) + b.rows.length;
      }
      count += batch.messages.length;
      batches++;
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (count >= job.events) done(Date.now());
    },
  });
});
clearInterval(ticker);
await consumer.disconnect();
const seconds = (finishedAt - joinedAt) / 1000;
const result: WindowResult = {
  events: count,
  batches,
  seconds,
  eventsPerSecond: Math.round(count / seconds),
  stageSeconds: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v / 1000])) as Record<Stage, number>,
  rows,
  peakRss,
};
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
