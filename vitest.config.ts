// Unit tests (*.test.ts) need no services; integration tests (*.integration.test.ts) use the real
// Kafka and ClickHouse that the global setup starts (or KAFKA_BROKERS / CLICKHOUSE_URL).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.local/**', 'stack/**'],
    globalSetup: ['core/testing/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    fileParallelism: true,
  },
});
