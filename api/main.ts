// Starts the api: config → ClickHouse client → buildApi → listen; SIGTERM → close.
import { loadConfig, type Config } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { buildApi } from './app.ts';
import { createSeriesRefresher } from './series-refresher.ts';
import { consumeUpdates, createStreamHub } from './stream-hub.ts';
import { createBatchingProducer, createKafka, ensureTopics, kafkaReachable } from '../core/kafka/client.ts';

export async function startApi(config: Config) {
  const log = createLogger(config.logLevel, 'api');
  const ch = createClickHouse({ url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword, log });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'viral-api', log });
  await ensureTopics(kafka, [
    { topic: config.erasuresTopic, partitions: 1 },
    { topic: config.updatesTopic, partitions: 1 },
  ]);
  const hub = createStreamHub();
  const stopUpdates = await consumeUpdates(hub, kafka, config.updatesTopic, log);
  const producer = await createBatchingProducer(kafka, { lingerMs: 0, maxBatch: 100 });
  const series = createSeriesRefresher({ url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword }, log);
  const app = await buildApi({ config, ch, log, registry: createRegistry('api'), producer, hub, series, kafkaReady: () => kafkaReachable(config.kafkaBrokers) });
  // App backends call the assignment route from many connections, and reconnect together after a
  // deploy: the same accept queue as ingest (ingest/main.ts), capped by net.core.somaxconn.
  await app.listen({ host: config.apiHost, port: config.apiPort, backlog: 4096 });
  return {
    app,
    url: `http://${config.apiHost}:${(app.server.address() as { port: number }).port}`,
    async close() {
      await app.close();
      await series.close();
      await producer.close();
      await stopUpdates();
      await ch.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig();
  if (!config.clickhouseUrl || !config.kafkaBrokers.length) throw new Error('CLICKHOUSE_URL and KAFKA_BROKERS must be set (npm start runs the embedded stack and sets them)');
  const svc = await startApi(config);
  const stop = async () => {
    await svc.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
