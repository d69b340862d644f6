// The start command's orchestrator (design §2 "Two commands"): embedded stack → migrations →
// ingest, processors, api as supervised child processes → demo stream into ingest.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../core/stack/embedded.ts';
import { createClickHouse } from '../core/clickhouse/client.ts';
import { migrate } from '../core/clickhouse/migrate.ts';
import { startDemoFeed } from '../loadtest/harness/demo-feed.ts';
import { DEMO_EXPERIMENT_DEFINITIONS } from '../core/demo/index.ts';
import { PROCESSORS_NODE_FLAGS } from '../processors/node-flags.ts';
import { INGEST_NODE_FLAGS } from '../ingest/node-flags.ts';

const config = loadConfig();
const log = createLogger(config.logLevel, 'start');
const t0 = Date.now();

let stack: EmbeddedStack | undefined;
let brokers = config.kafkaBrokers.join(',');
let clickhouseUrl = config.clickhouseUrl;
if (!brokers || !clickhouseUrl) {
  stack = await startEmbeddedStack({ ...config, log });
  brokers ||= stack.kafkaBrokers.join(',');
  clickhouseUrl ||= stack.clickhouseUrl;
}
const ch = createClickHouse({ url: clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword });
const applied = await migrate(ch, join(config.rootDir, 'sql', 'migrations'));
await ch.close();
log.info({ applied: applied.length }, 'migrations applied');

const env = { ...process.env, KAFKA_BROKERS: brokers, CLICKHOUSE_URL: clickhouseUrl };
const children = new Map<string, ChildProcess>();
let stopping = false;

function run(name: string, script: string, nodeFlags: readonly string[] = []): void {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(config.rootDir, script)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    log.error({ service: name, code, signal }, 'service exited; restarting in 1 s');
    setTimeout(() => run(name, script, nodeFlags), 1000);
  });
}
run('ingest', 'ingest/main.ts', INGEST_NODE_FLAGS);
run('processors', 'processors/main.ts', PROCESSORS_NODE_FLAGS);
run('api', 'api/main.ts');

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 60 s`);
}
const ingestUrl = `http://${config.ingestHost}:${config.ingestPort}`;
const apiUrl = `http://${config.apiHost}:${config.apiPort}`;
await Promise.all([waitHealthy(`${ingestUrl}/health`), waitHealthy(`${apiUrl}/health`)]);
log.info({ ms: Date.now() - t0, ingest: ingestUrl, api: apiUrl, kafka: brokers, clickhouse: clickhouseUrl }, 'pipeline up');
if (config.devKeys) {
  console.log(`\nDevelopment keys for app "demo" (set VIRAL_API_KEYS to replace them):\n  ingest: dev-ingest-key\n  read:   dev-read-key\n  admin:  dev-admin-key\n`);
}

// The demo's experiments are defined through the api like a user would (design §6).
const adminKey = config.apiKeys.find((k) => k.scope === 'admin' && k.appId === 'demo')?.key;
if (config.demo && adminKey) {
  for (const [id, definition] of Object.entries(DEMO_EXPERIMENT_DEFINITIONS)) {
    const res = await fetch(`${apiUrl}/v1/experiments/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify(definition),
    });
    if (!res.ok) log.warn({ experiment: id, status: res.status, body: await res.text() }, 'demo experiment not defined');
  }
}

const ingestKey = config.apiKeys.find((k) => k.scope === 'ingest' && k.appId === 'demo')?.key;
const demo = config.demo && ingestKey ? startDemoFeed({ ingestUrl, ingestKey, log, seed: config.demoSeed }) : undefined;

async function shutdown() {
  if (stopping) return;
  stopping = true;
  log.info('stopping');
  await demo?.stop();
  await Promise.all(
    [...children.values()].map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null) return done();
          const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
          c.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  await stack?.stop();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
