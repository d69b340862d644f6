// Fault injection (issue 8): while a steady stream is ingested, (a) the processors are killed with
// SIGKILL and restarted, (b) the Kafka broker is stopped and restarted, (c) ClickHouse is stopped
// for 30 s, (d) ingest is restarted. Afterwards every event that got a 202 is in viral.events
// exactly once and every derived table equals a batch recomputation over those events.
// Runs on a private Kafka + ClickHouse so the shared test stack keeps serving other files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { migrate } from '../core/clickhouse/migrate.ts';
import { sql, str } from '../core/clickhouse/sql.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../core/stack/embedded.ts';
import { generateDemo, type PostedEvent } from '../core/demo/index.ts';
import { eventually, freePorts, keysSpec, makeTenant } from '../core/testing/services.ts';
import { derivedDiffsFromBatch, normalizeAll } from '../core/testing/compare.ts';
import { createRegistry } from './registry.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tenant = makeTenant('fault');
const dataDir = join(root, '.local', `test-faults-${tenant.appId}`);
const [kafkaPort, controllerPort, chHttp, chTcp, ingestPort, metricsPort] = await freePorts(6);
const env: Record<string, string> = {
  NODE_ENV: 'test',
  KAFKA_PORT: String(kafkaPort),
  KAFKA_CONTROLLER_PORT: String(controllerPort),
  CLICKHOUSE_HTTP_PORT: String(chHttp),
  CLICKHOUSE_TCP_PORT: String(chTcp),
  VIRAL_DATA_DIR: dataDir,
  KAFKA_HEAP: '256m',
  KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
  CLICKHOUSE_URL: `http://127.0.0.1:${chHttp}`,
  VIRAL_API_KEYS: keysSpec([tenant]),
  INGEST_PORT: String(ingestPort),
  PROCESSORS_METRICS_PORT: String(metricsPort),
  TOPIC_PARTITIONS: '3',
  LOG_LEVEL: 'fatal',
};
const config = loadConfig(env);
const ingestUrl = `http://127.0.0.1:${ingestPort}`;
let stack: EmbeddedStack;
const ch = createClickHouse({ url: env.CLICKHOUSE_URL });
const children: Record<string, ChildProcess | undefined> = {};

/** Starts a service; like the start command's supervisor, a service that exits is restarted. */
function start(name: 'ingest' | 'processors'): void {
  const log = openSync(join(dataDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', `${name}/main.ts`], { cwd: root, env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', log, log] });
  children[name] = child;
  child.once('exit', () => {
    if (!stopped.has(child) && children[name] === child) setTimeout(() => start(name), 1000);
  });
}
/** Children this test stopped on purpose (not to be restarted by the supervisor above). */
const stopped = new Set<ChildProcess>();
function stop(name: 'ingest' | 'processors', signal: NodeJS.Signals): Promise<void> {
  const c = children[name];
  if (!c || c.exitCode !== null) return Promise.resolve();
  stopped.add(c);
  return new Promise((done) => {
    c.once('exit', () => done());
    c.kill(signal);
  });
}
async function waitHealthy(url: string) {
  await eventually(async () => (await fetch(url).catch(() => undefined))?.ok, 60_000, url);
}

const now = Date.now();
const demo = generateDemo({ seed: 31, now, days: 4, seedUsers: 300, fraudPerDay: 2 });
const acknowledged = new Map<string, PostedEvent>();
let retries = 0;

/** Posts a batch until it is acknowledged (503, 429 and refused connections are retried). */
async function postUntilAccepted(events: PostedEvent[]): Promise<void> {
  for (;;) {
    const res = await fetch(`${ingestUrl}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.ingestKey}` },
      body: JSON.stringify({ events }),
    }).catch(() => undefined);
    if (res?.status === 202) {
      const body = (await res.json()) as { rejected: unknown[] };
      expect(body.rejected).toEqual([]);
      for (const e of events) acknowledged.set(e.event_id, e);
      return;
    }
    expect([undefined, 429, 503]).toContain(res?.status);
    retries++;
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true });
  stack = await startEmbeddedStack({ ...config, log: createLogger('fatal', 'faults') });
  await migrate(ch, join(root, 'sql', 'migrations'));
  start('ingest');
  start('processors');
  await waitHealthy(`${ingestUrl}/health`);
}, 180_000);

afterAll(async () => {
  await Promise.all([stop('ingest', 'SIGKILL'), stop('processors', 'SIGKILL')]);
  await ch.close();
  await stack?.stop();
  if (process.env.KEEP_FAULT_DATA !== '1') rmSync(dataDir, { recursive: true, force: true });
});

describe('faults during a steady stream', () => {
  it('loses nothing acknowledged, writes nothing twice, and keeps every derived table equal to a batch recomputation', async () => {
    const faults: Record<number, () => Promise<void>> = {
      1: async () => {
        await stop('processors', 'SIGKILL'); // (a)
        await new Promise((r) => setTimeout(r, 1000));
        start('processors');
      },
      2: async () => {
        await stack.stopKafka(); // (b)
        await new Promise((r) => setTimeout(r, 3000));
        await stack.startKafka();
      },
      3: async () => {
        await stack.stopClickHouse(); // (c)
        await new Promise((r) => setTimeout(r, 30_000));
        await stack.startClickHouse();
      },
      4: async () => {
        await stop('ingest', 'SIGTERM'); // (d)
        start('ingest');
      },
    };
    const batches: PostedEvent[][] = [];
    for (let i = 0; i < demo.events.length; i += 40) batches.push(demo.events.slice(i, i + 40));
    const step = Math.floor(batches.length / 5);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < batches.length; i++) {
      if (i > 0 && i % step === 0 && faults[i / step]) pending.push(faults[i / step]());
      await postUntilAccepted(batches[i]);
    }
    await Promise.all(pending);
    console.log(`posted ${acknowledged.size} events with ${retries} retries in ${Date.now() - now} ms`);
    expect(acknowledged.size).toBe(demo.events.length);
    expect(retries).toBeGreaterThan(0); // the faults were felt by the client

    // Every acknowledged event exactly once after dedup.
    await eventually(async () => {
      const [r] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM (SELECT 1 FROM viral.events WHERE app_id = ${str(tenant.appId)} LIMIT 1 BY app_id, event_id)`);
      return Number(r.n) === acknowledged.size;
    }, 180_000, 'every acknowledged event in viral.events').catch((err) => {
      console.log(readFileSync(join(dataDir, 'processors.log'), 'utf8').split('\n').filter((l) => !l.includes('kafkajs')).slice(-30).join('\n'));
      throw err;
    });
    const stored = await ch.query<{ event_id: string }>(sql`SELECT DISTINCT event_id FROM viral.events WHERE app_id = ${str(tenant.appId)}`);
    expect(new Set(stored.map((r) => r.event_id))).toEqual(new Set(acknowledged.keys()));

    console.log(`raw events complete at ${Date.now() - now} ms`);
    // Derived tables equal the pure processors over the acknowledged events.
    const normalized = normalizeAll([...acknowledged.values()], tenant.appId, config.hashSalt, now);
    expect(await derivedDiffsFromBatch(ch, createRegistry(config), normalized, tenant.appId, 120_000)).toEqual([]);
  }, 600_000);
});
