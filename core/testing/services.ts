// Builders for integration tests: a config on the real test stack with its own app, keys and
// topics, so test files running in parallel never see each other's data.
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../config.ts';
import { createClickHouse, type ClickHouse } from '../clickhouse/client.ts';

export interface TestTenant {
  appId: string;
  ingestKey: string;
  readKey: string;
  adminKey: string;
}

export function makeTenant(prefix = 't'): TestTenant {
  const id = `${prefix}_${randomBytes(5).toString('hex')}`;
  return { appId: id, ingestKey: `ik_${id}_key`, readKey: `rk_${id}_key`, adminKey: `ak_${id}_key` };
}

export function keysSpec(tenants: TestTenant[]): string {
  return tenants.flatMap((t) => [`${t.ingestKey}:ingest:${t.appId}`, `${t.readKey}:read:${t.appId}`, `${t.adminKey}:admin:${t.appId}`]).join(',');
}

/** Env of a config on the test stack: own topics and consumer group (suffix), the tenants' keys. */
export function testEnv(tenants: TestTenant[], env: Record<string, string> = {}): Record<string, string> {
  const suffix = randomBytes(4).toString('hex');
  return {
    NODE_ENV: 'test',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    CLICKHOUSE_URL: inject('clickhouseUrl'),
    VIRAL_API_KEYS: keysSpec(tenants),
    EVENTS_TOPIC: `test.events.${suffix}`,
    DLQ_TOPIC: `test.dlq.${suffix}`,
    ERASURES_TOPIC: `test.erasures.${suffix}`,
    UPDATES_TOPIC: `test.updates.${suffix}`,
    PROCESSORS_GROUP: `test-processors-${suffix}`,
    TOPIC_PARTITIONS: '2',
    INGEST_PORT: '0',
    API_PORT: '0',
    // Tests read right after writing: no reuse of answers (concurrent requests still coalesce).
    API_CACHE_MS: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
    ...env,
  };
}

export function testConfig(tenants: TestTenant[], env: Record<string, string> = {}): Config {
  return loadConfig(testEnv(tenants, env));
}

export function testClickHouse(): ClickHouse {
  return createClickHouse({ url: inject('clickhouseUrl') });
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Reads a topic from the beginning until `count` messages arrived or the timeout passed; returns what arrived. */
export async function readTopic(brokers: string, topic: string, count: number, timeoutMs = 20_000): Promise<{ key: string | null; value: string }[]> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  const out: { key: string | null; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '' });
      },
    });
    await eventually(async () => out.length >= count, timeoutMs, `${count} messages on ${topic}`).catch(() => undefined);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

/** Ports free right now on 127.0.0.1 (for child processes that need to be told their port). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((done) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => done(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}
