// `npm run loadtest [-- --quick] [--scenario ingest|processors|freshness|api|concurrency|windows|graph|chains ...]
//                   [--cpu-prof] [--keep-data]`
//
// Brings the stack up (or uses KAFKA_BROKERS / CLICKHOUSE_URL; a running embedded stack is
// reused), starts ingest, processors, api and a bare Fastify reference as child processes with
// this run's own app keys, topics and consumer groups, runs the scenarios (scenarios.ts), prints
// the table with each figure beside its physical reference and the issue-7 target, and writes
// the results to loadtest/results/<timestamp>.json. Progress lines go to stderr.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClickHouse } from '../../core/clickhouse/client.ts';
import { migrate } from '../../core/clickhouse/migrate.ts';
import { ident, list, sql, str } from '../../core/clickhouse/sql.ts';
import { loadConfig } from '../../core/config.ts';
import { createKafka } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/log.ts';
import { startEmbeddedStack, type EmbeddedStack } from '../../core/stack/embedded.ts';
import { formatSummary, summarizeProfile, type CpuProfile } from './profile-summary.ts';
import { fmtMiB, renderTable } from './report.ts';
import { SCENARIOS, startChild, type Ctx, type ScenarioName, type Tenant } from './scenarios.ts';
import { findPid, ROOT, rssSampler, serviceNames, stopChildren } from './services.ts';
import { loadScenarios } from './settings.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    'cpu-prof': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const names = Object.keys(SCENARIOS) as ScenarioName[];
if (args.help) {
  process.stdout.write(`usage: npm run loadtest -- [--quick] [--scenario ${names.join('|')}]... [--cpu-prof] [--keep-data]\n`);
  process.exit(0);
}
const chosen = (args.scenario ?? names) as ScenarioName[];
for (const s of chosen) if (!names.includes(s)) throw new Error(`unknown scenario ${s}; one of ${names.join(', ')}`);

const mode = args.quick ? 'quick' : 'full';
const scenarios = loadScenarios();
const profile = scenarios.profiles[mode];
const t0 = Date.now();
const progress = (line: string) => {
  const s = Math.round((Date.now() - t0) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`);
};

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const runId = `lt${Date.now().toString(36)}`;
const outDir = join(ROOT, 'loadtest', 'results', stamp);
const logsDir = join(outDir, 'logs');
const profDir = join(outDir, 'profiles');
mkdirSync(logsDir, { recursive: true });

const config = loadConfig(process.env);
const log = createLogger('warn', 'loadtest');
let stack: EmbeddedStack | undefined;
if (!config.kafkaBrokers.length || !config.clickhouseUrl) {
  progress('starting (or reusing) the embedded Kafka + ClickHouse');
  stack = await startEmbeddedStack({ ...config, log });
}
const brokers = config.kafkaBrokers.length ? config.kafkaBrokers : stack!.kafkaBrokers;
const clickhouseUrl = config.clickhouseUrl || stack!.clickhouseUrl;
const ch = createClickHouse({ url: clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword });
await migrate(ch, join(ROOT, 'sql', 'migrations'));
const admin = createKafka({ brokers, clientId: 'loadtest-admin', log }).admin();
await admin.connect();

const tenant = (suffix: string): Tenant => {
  const appId = `${runId}${suffix}`;
  return { appId, ingestKey: `${appId}-ingest-key`, readKey: `${appId}-read-key`, adminKey: `${appId}-admin-key` };
};
const tenants = { main: tenant(''), fresh: tenant('_fresh'), bg: tenant('_bg') };
const topics = { events: `loadtest.${runId}.events`, dlq: `loadtest.${runId}.dlq`, replay: `loadtest.${runId}.replay` };
const groups = { live: `loadtest-${runId}-live`, replay: `loadtest-${runId}-replay` };
const env: Record<string, string> = {
  NODE_ENV: 'production',
  KAFKA_BROKERS: brokers.join(','),
  CLICKHOUSE_URL: clickhouseUrl,
  VIRAL_API_KEYS: Object.values(tenants)
    .flatMap((t) => [`${t.ingestKey}:ingest:${t.appId}`, `${t.readKey}:read:${t.appId}`, `${t.adminKey}:admin:${t.appId}`])
    .join(','),
  VIRAL_HASH_SALT: `loadtest-salt-${runId}`,
  EVENTS_TOPIC: topics.events,
  DLQ_TOPIC: topics.dlq,
  PROCESSORS_GROUP: groups.live,
  // The per-key limits would cap the load generator, not measure the service.
  INGEST_RATE_LIMIT: '1000000000',
  API_RATE_LIMIT: '1000000000',
  LOG_LEVEL: 'warn',
  DEMO: 'off',
};
const nodeFlags = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
const loadStart = loadavg();
progress(`run ${runId}: ${mode} mode, scenarios ${chosen.join(', ')}; ${cpus().length} cores, load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);

// Interrupted (Ctrl-C, SIGTERM): the children are stopped and the run ends as a failed one —
// the services stopped, the run's topics and rows removed (left behind, every later processors
// start would restore the run's events: a full run writes ~2.4M into viral.events), the results
// so far written. A second signal exits at once.
let interrupted: NodeJS.Signals | undefined;
let interrupt!: (err: Error) => void;
const interruption = new Promise<never>((_, reject) => (interrupt = reject));
interruption.catch(() => undefined);
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130);
  interrupted = signal;
  progress(`${signal}: stopping the services and load generators (${signal} again exits at once)`);
  void stopChildren(5_000);
  interrupt(new Error(`interrupted by ${signal}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const rss = rssSampler();
const base = { env, nodeFlags, logsDir };
progress('starting ingest, processors, api and the bare Fastify reference (child processes)');
const [ingest, processors, api, bare] = await Promise.all([
  startChild(base, 'ingest', 'ingest/main.ts', 'INGEST_PORT'),
  startChild(base, 'processors', 'processors/main.ts', 'PROCESSORS_METRICS_PORT'),
  startChild(base, 'api', 'api/main.ts', 'API_PORT'),
  startChild(base, 'bare', 'loadtest/harness/bare-server.ts', 'BARE_PORT'),
]);
for (const s of [ingest, processors, api]) rss.track(s.name, s.child.pid);

const ctx: Ctx = {
  runId,
  profile,
  targets: scenarios.targets,
  brokers,
  ch,
  admin,
  tenants,
  topics,
  groups,
  env,
  nodeFlags,
  logsDir,
  services: { ingest, processors, api, bare },
  // Only the embedded servers can be found (data dir from loadConfig); external ones are not measured.
  pids: { kafka: findPid(join(config.dataDir, 'kafka', 'server.properties')), clickhouse: findPid('clickhouse', join(config.dataDir, 'clickhouse')) },
  rss,
  now: Date.now(),
  figures: [],
  notes: [],
  progress,
};

const loadBy: Record<string, string> = {};
let failure: Error | undefined;
try {
  for (const name of chosen) {
    rss.scenario(name);
    loadBy[name] = loadavg()[0].toFixed(2);
    progress(`── ${name} (load average ${loadBy[name]})`);
    // A scenario may be waiting on something the stopped children will never do (a consumer
    // group catching up): an interruption ends the run without waiting for it.
    await Promise.race([SCENARIOS[name](ctx), interruption]);
  }
} catch (err) {
  failure = err as Error;
  progress(`scenario failed: ${failure.stack ?? failure.message}`);
}

const rssReport = rss.stop();
progress('stopping the services');
await Promise.all([ingest, processors, api, bare].map((s) => s.stop()));

for (const [service, byScenario] of Object.entries(rssReport.peak)) {
  const peak = rss.peakOf(service)!;
  ctx.figures.push({
    id: `rss.${service}`,
    label: `RSS ${service}`,
    value: `peak ${fmtMiB(peak)}`,
    reference: Object.entries(byScenario)
      .map(([s, b]) => `${s} ${fmtMiB(b)}`)
      .join(', '),
    data: { peakBytes: peak, byScenario },
  });
}

const profiles: Record<string, ReturnType<typeof summarizeProfile>> = {};
if (args['cpu-prof']) {
  // V8 names them CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile; thread 0 is the main thread
  // (the others are tsx's module-loader thread, idle after start-up).
  for (const file of readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')) {
    const name = `${serviceNames.get(Number(file.split('.')[3])) ?? 'load generator'} (${file})`;
    profiles[name] = summarizeProfile(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile, 25);
    process.stderr.write(formatSummary(name, profiles[name]) + '\n');
  }
  ctx.notes.push(`CPU profiles in ${profDir} (pid in the file name; open in Chrome DevTools, or: tsx loadtest/harness/profile-summary.ts <file>)`);
}

if (!args['keep-data']) {
  progress('removing this run’s topics and rows (--keep-data keeps them)');
  await cleanup().catch((err) => ctx.notes.push(`cleanup failed: ${(err as Error).message}`));
}
await admin.disconnect();
await ch.close();
await stack?.stop();

const loadEnd = loadavg();
ctx.notes.unshift(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; load average (1/5/15 min) at start ${loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')}; 1-min load at each scenario start: ${Object.entries(loadBy).map(([k, v]) => `${k} ${v}`).join(', ')}`,
);
// Measurements first, then CPU cost per event and memory.
const rank = (id: string) => (id.startsWith('cpu.') ? 1 : id.startsWith('rss.') ? 2 : 0);
ctx.figures.sort((a, b) => rank(a.id) - rank(b.id));
const table = renderTable(ctx.figures);
process.stdout.write(`\nLoad test ${runId} (${mode}), ${new Date().toISOString()}, commit ${commit()}\n\n${table}\n\n${ctx.notes.map((n) => `- ${n}`).join('\n')}\n`);
const resultFile = join(ROOT, 'loadtest', 'results', `${stamp}.json`);
writeFileSync(
  resultFile,
  JSON.stringify(
    { runId, mode, commit: commit(), startedAt: new Date(t0).toISOString(), seconds: Math.round((Date.now() - t0) / 1000), machine: { cpus: cpus().length, node: process.version, loadStart, loadEnd, loadByScenario: loadBy }, settings: profile, targets: scenarios.targets, figures: ctx.figures, notes: ctx.notes, profiles, error: failure?.message },
    null,
    2,
  ) + '\n',
);
process.stderr.write(`results: ${resultFile}\nservice logs: ${logsDir}\n`);
process.exit(interrupted ? 130 : failure ? 1 : 0);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Deletes the run's topics and its apps' rows from every viral table that has an app_id. */
async function cleanup(): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const ours = Object.values(topics).filter((t) => existing.has(t));
  if (ours.length) await admin.deleteTopics({ topics: ours });
  const tables = await ch.query<{ table: string }>(sql`SELECT name AS table FROM system.tables
    WHERE database = 'viral' AND engine LIKE '%MergeTree' AND name IN (SELECT table FROM system.columns WHERE database = 'viral' AND name = 'app_id')`);
  const apps = list(Object.values(tenants).map((t) => str(t.appId)));
  for (const { table } of tables) await ch.command(sql`ALTER TABLE viral.${ident(table)} DELETE WHERE app_id IN ${apps}`);
}
