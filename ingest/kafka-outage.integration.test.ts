// Stopping the Kafka broker makes ingest answer 503 (with Retry-After) and accept nothing; after
// the restart it accepts again and nothing acknowledged before the stop is missing (issue 2).
// Runs its own private broker so the shared test broker keeps serving the other test files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startEmbeddedStack, type EmbeddedStack } from '../core/stack/embedded.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { freePorts, makeTenant, readTopic, testConfig } from '../core/testing/services.ts';
import { startIngest } from './main.ts';

const tenant = makeTenant('kout');
let broker: EmbeddedStack;
let ingest: Awaited<ReturnType<typeof startIngest>>;
let brokers: string;
let config: ReturnType<typeof testConfig>;
const dataDir = join(loadConfig({}).rootDir, '.local', `test-kafka-${tenant.appId}`);

const event = (id: string) => ({
  event_id: id,
  type: 'signup',
  occurred_at: Date.now() - 1000,
  user_id: `user-${id}`,
  properties: {},
});
async function post(id: string) {
  const res = await fetch(`${ingest.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
    body: JSON.stringify(event(id)),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const [kafkaPort, controllerPort] = await freePorts(2);
  const base = loadConfig({ KAFKA_PORT: String(kafkaPort), KAFKA_CONTROLLER_PORT: String(controllerPort), VIRAL_DATA_DIR: dataDir, KAFKA_HEAP: '256m' });
  broker = await startEmbeddedStack({ ...base, log: createLogger('warn', 'test-kafka'), only: 'kafka' });
  brokers = broker.kafkaBrokers.join(',');
  config = testConfig([tenant], { KAFKA_BROKERS: brokers });
  ingest = await startIngest(config);
});
afterAll(async () => {
  await ingest?.close().catch(() => undefined);
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Kafka outage', () => {
  it('503 while the broker is down, accepts again after restart, and keeps everything acknowledged', async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await post(`before-${i}`);
      expect(r.status).toBe(202);
      acknowledged.push(`before-${i}`);
    }
    expect((await fetch(`${ingest.url}/ready`)).status).toBe(200);
    await broker.stopKafka();
    const unready = await fetch(`${ingest.url}/ready`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toEqual({ status: 'unready', checks: { kafka: false } });
    const down = await post('during-1');
    expect(down.status).toBe(503);
    expect(Number(down.retryAfter)).toBeGreaterThan(0);
    expect(down.body.error).toBe('kafka_unavailable');
    expect(down.body).not.toHaveProperty('accepted');

    await broker.startKafka();
    let after = await post('after-1');
    for (let i = 0; i < 50 && after.status !== 202; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await post('after-1');
    }
    expect(after.status).toBe(202);
    acknowledged.push('after-1');
    expect((await fetch(`${ingest.url}/ready`)).status).toBe(200);

    const messages = await readTopic(brokers, config.eventsTopic, acknowledged.length);
    const ids = new Set(messages.map((m) => JSON.parse(m.value).event_id as string));
    for (const id of acknowledged) expect(ids.has(id), `${id} acknowledged but missing`).toBe(true);
  });
});
