// Starts the ingest service: config → Kafka producer → buildIngest → listen; SIGTERM/SIGINT →
// stop accepting, flush the producer, exit (design §10 graceful shutdown).
import { loadConfig, type Config } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { createBatchingProducer, createKafka, ensureTopics } from '../core/kafka/client.ts';
import { buildIngest } from './app.ts';

export async function startIngest(config: Config) {
  const log = createLogger(config.logLevel, 'ingest');
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'viral-ingest', log });
  await ensureTopics(kafka, [
    { topic: config.eventsTopic, partitions: config.topicPartitions },
    { topic: config.dlqTopic, partitions: 1 },
  ]);
  const producer = await createBatchingProducer(kafka, { lingerMs: config.produceLingerMs, maxBatch: config.produceMaxBatch, maxInFlight: config.produceMaxInFlight });
  const app = await buildIngest({ config, producer, log, registry: createRegistry('ingest') });
  // Thousands of SDK clients reconnect at once after a deploy or a network blip: Node's default
  // accept queue (511) overflows and the kernel drops their SYNs, which they retry only after
  // 1, 3, 7… s. The kernel caps this at net.core.somaxconn (4096 on current kernels).
  await app.listen({ host: config.ingestHost, port: config.ingestPort, backlog: 4096 });
  return {
    app,
    url: `http://${config.ingestHost}:${(app.server.address() as { port: number }).port}`,
    async close() {
      await app.close();
      await producer.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig();
  if (!config.kafkaBrokers.length) throw new Error('KAFKA_BROKERS is not set (npm start runs the embedded stack and sets it)');
  const svc = await startIngest(config);
  const stop = async () => {
    await svc.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
