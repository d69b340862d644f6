// Starts the processor pipeline: restore state from ClickHouse, then consume, sink and commit.
// SIGTERM/SIGINT → the consumer finishes the batch in hand, commits, and leaves the group.
import { loadConfig, type Config } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { createBatchingProducer, createKafka, ensureTopics, kafkaReachable } from '../core/kafka/client.ts';
import { runPipeline } from '../core/kafka/run-pipeline.ts';
import { createRegistry as createProcessorRegistry } from './registry.ts';
import { scheduleRetention } from './retention/index.ts';
import { publishUpdates } from '../core/stream/updates.ts';
import { createResultsJob } from './experiments/results-job.ts';
import Fastify from 'fastify';
import { registerCommon } from '../core/http/common.ts';

export async function startProcessors(config: Config, opts: { metricsPort?: number; metricsHost?: string; retention?: boolean } = {}) {
  const log = createLogger(config.logLevel, 'processors');
  const registry = createRegistry('processors');
  const ch = createClickHouse({ url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword, log });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'viral-processors', log });
  await ensureTopics(kafka, [
    { topic: config.eventsTopic, partitions: config.topicPartitions },
    { topic: config.dlqTopic, partitions: 1 },
    { topic: config.erasuresTopic, partitions: 1 },
    { topic: config.updatesTopic, partitions: 1 },
  ]);
  const producer = await createBatchingProducer(kafka, { lingerMs: 0, maxBatch: 1000 });
  const { rawSink, createProcessors, derivedTables } = createProcessorRegistry(config);
  const retention = opts.retention === false ? undefined : scheduleRetention(ch, config.retentionDays, log);
  const publish = (rows: Parameters<typeof publishUpdates>[2]) => publishUpdates(producer, config.updatesTopic, rows, (err) => log.warn({ err: err.message }, 'live update not published'));
  // Experiment results: every minute, and ~1 s after a batch wrote experiment statistics.
  const experimentResults = createResultsJob({ ch, log, onWritten: publish });
  const pipeline = await runPipeline({
    kafka,
    ch,
    producer,
    rawSink,
    createProcessors,
    derivedTables,
    groupId: config.processorsGroup,
    maxBatch: config.processorMaxBatch,
    fetchWaitMs: config.processorFetchWaitMs,
    topic: config.eventsTopic,
    dlqTopic: config.dlqTopic,
    log,
    registry,
    onCommitted: (_events, rows) => {
      publish(rows);
      experimentResults.onCommitted(rows);
    },
  });
  experimentResults.start();

  // Privacy erasures: committed only after the erase and rebuild finished (at-least-once; erasing
  // twice is harmless).
  const erasures = kafka.consumer({ groupId: `${config.processorsGroup}-erasures`, sessionTimeout: 60_000 });
  await erasures.connect();
  await erasures.subscribe({ topic: config.erasuresTopic, fromBeginning: true });
  await erasures.run({
    eachMessage: async ({ message, heartbeat }) => {
      let request: { app_id?: unknown; user_id?: unknown };
      try {
        request = JSON.parse(message.value?.toString() ?? '');
      } catch {
        log.error('unreadable erasure request skipped');
        return;
      }
      if (typeof request.app_id !== 'string' || typeof request.user_id !== 'string') return;
      const started = Date.now();
      // An erase can outlast the session timeout (it rebuilds from every raw event): without
      // heart-beats the request would be handed out again, and erased again, forever.
      const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
      try {
        await pipeline.erase(request.app_id, request.user_id);
        log.info({ app_id: request.app_id, ms: Date.now() - started }, 'erase request done');
      } catch (err) {
        // Not committed: kafkajs retries the request after a back-off.
        log.error({ err: (err as Error).message, app_id: request.app_id }, 'erase request failed; will retry');
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  });

  // /health, /ready and /metrics of the processors (port 0 = not exposed).
  const http = Fastify({ logger: false });
  await registerCommon(http, {
    registry,
    rateLimitPerMinute: 100_000,
    corsOrigins: '',
    ready: async () => ({ kafka: await kafkaReachable(config.kafkaBrokers), clickhouse: await ch.ping() }),
  });
  if (opts.metricsPort !== undefined) await http.listen({ host: opts.metricsHost ?? '127.0.0.1', port: opts.metricsPort });

  return {
    restored: pipeline.restored,
    async close() {
      retention?.stop();
      await experimentResults.stop();
      await erasures.disconnect();
      await pipeline.stop();
      await http.close();
      await producer.close();
      await ch.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig();
  if (!config.kafkaBrokers.length || !config.clickhouseUrl) throw new Error('KAFKA_BROKERS and CLICKHOUSE_URL must be set (npm start sets them)');
  const svc = await startProcessors(config, { metricsPort: config.processorsMetricsPort, metricsHost: config.processorsMetricsHost });
  const stop = async () => {
    await svc.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
