// Vitest global setup: the real Kafka and ClickHouse for integration tests (never mocks).
// Uses KAFKA_BROKERS / CLICKHOUSE_URL when set, else starts (or reuses) the embedded stack,
// then applies the migrations once.
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../stack/embedded.ts';
import { createClickHouse } from '../clickhouse/client.ts';
import { migrate } from '../clickhouse/migrate.ts';
import { join } from 'node:path';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    clickhouseUrl: string;
  }
}

let stack: EmbeddedStack | undefined;

export async function setup(project: TestProject) {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  let brokers = config.kafkaBrokers.join(',');
  let url = config.clickhouseUrl;
  if (!brokers || !url) {
    stack = await startEmbeddedStack({ ...config, log: createLogger('warn', 'test-stack') });
    brokers ||= stack.kafkaBrokers.join(',');
    url ||= stack.clickhouseUrl;
  }
  const ch = createClickHouse({ url });
  await migrate(ch, join(config.rootDir, 'sql', 'migrations'));
  await ch.close();
  project.provide('kafkaBrokers', brokers);
  project.provide('clickhouseUrl', url);
}

export async function teardown() {
  await stack?.stop();
}
