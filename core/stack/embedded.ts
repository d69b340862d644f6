// The embedded default of design §2: a single-node Apache Kafka (KRaft, from the Maven jars in
// stack/kafka/libs) and a ClickHouse server (Debian's clickhouse-server) run as child processes,
// with data and logs under one git-ignored folder (`.local/` by default).
//
// `startEmbeddedStack()` is idempotent: when something already answers on a port it is reused
// (a stack started by another command, e.g. the test setup and `npm start` side by side), so the
// caller only stops what it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

export interface EmbeddedStackOptions {
  /** Folder holding data and logs of both servers. */
  dataDir: string;
  /** Repository root (for stack/kafka/libs). */
  rootDir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  clickhouseHttpPort: number;
  clickhouseTcpPort: number;
  /** Kafka JVM heap, e.g. '384m' (2-core machine: keep it small). */
  kafkaHeap: string;
  log: Logger;
  /** Start only one of the two (fault-injection tests run a private broker or server). */
  only?: 'kafka' | 'clickhouse';
}

export interface EmbeddedStack {
  kafkaBrokers: string[];
  clickhouseUrl: string;
  /** Stops the servers this call started (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Stops / restarts one server (fault-injection tests). */
  stopKafka(): Promise<void>;
  startKafka(): Promise<void>;
  stopClickHouse(): Promise<void>;
  startClickHouse(): Promise<void>;
}

const CLICKHOUSE_BIN = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse'];

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolveOpen(false);
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} during start-up`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function clickhouseConfig(o: EmbeddedStackOptions): string {
  // Relative paths: 18.16 writes preprocessed_configs/ next to the config; we start it from its dir.
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>log/server.log</log><errorlog>log/error.log</errorlog><size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${o.clickhouseHttpPort}</http_port>
  <tcp_port>${o.clickhouseTcpPort}</tcp_port>
  <path>./data/</path>
  <tmp_path>./tmp/</tmp_path>
  <user_files_path>./user_files/</user_files_path>
  <format_schema_path>./format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <timezone>UTC</timezone>
</yandex>
`;
}

const CLICKHOUSE_USERS = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>4000000000</max_memory_usage><load_balancing>random</load_balancing></default>
    <readonly><readonly>2</readonly></readonly>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

function kafkaProperties(o: EmbeddedStackOptions, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.kafkaPort},CONTROLLER://127.0.0.1:${o.kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=4',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=168',
    'log.segment.bytes=134217728',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'log.cleaner.threads=1',
    'log.cleaner.dedupe.buffer.size=16777216',
    '',
  ].join('\n');
}

const LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.server.KafkaServer" level="INFO"/>
    <Logger name="kafka.server.BrokerServer" level="INFO"/>
  </Loggers>
</Configuration>
`;

export async function startEmbeddedStack(o: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const dataDir = resolve(o.dataDir);
  const chDir = join(dataDir, 'clickhouse');
  const kafkaDir = join(dataDir, 'kafka');
  for (const d of [chDir, join(chDir, 'log'), kafkaDir]) mkdirSync(d, { recursive: true });

  let clickhouse: ChildProcess | undefined;
  let kafka: ChildProcess | undefined;

  const clickhouseReady = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${o.clickhouseHttpPort}/ping`);
      return res.ok;
    } catch {
      return false;
    }
  };

  async function startClickHouse(): Promise<void> {
    if (await clickhouseReady()) {
      o.log.info({ port: o.clickhouseHttpPort }, 'ClickHouse already running: reusing it');
      return;
    }
    const bin = CLICKHOUSE_BIN.find((b) => existsSync(b));
    if (!bin) throw new Error('clickhouse-server is not installed: run scripts/install.sh');
    writeFileSync(join(chDir, 'config.xml'), clickhouseConfig(o));
    writeFileSync(join(chDir, 'users.xml'), CLICKHOUSE_USERS);
    const out = openSync(join(chDir, 'log', 'stdout.log'), 'a');
    const args = bin.endsWith('/clickhouse') ? ['server', '--config-file=config.xml'] : ['--config-file=config.xml'];
    const started = Date.now();
    clickhouse = spawn(bin, args, { cwd: chDir, stdio: ['ignore', out, out] });
    await waitFor('ClickHouse', clickhouseReady, 30_000, clickhouse);
    o.log.info({ port: o.clickhouseHttpPort, ms: Date.now() - started }, 'ClickHouse started');
  }

  async function startKafka(): Promise<void> {
    if (await portOpen(o.kafkaPort)) {
      o.log.info({ port: o.kafkaPort }, 'Kafka already running: reusing it');
      return;
    }
    const libs = join(o.rootDir, 'stack', 'kafka', 'libs');
    if (!existsSync(libs) || readdirSync(libs).length === 0) throw new Error('Kafka jars missing: run scripts/install.sh');
    const logDir = join(kafkaDir, 'data');
    const props = join(kafkaDir, 'server.properties');
    writeFileSync(props, kafkaProperties(o, logDir));
    writeFileSync(join(kafkaDir, 'log4j2.xml'), LOG4J2);
    const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
    const classpath = join(libs, '*');
    const jvm = [
      `-Xmx${o.kafkaHeap}`,
      `-Xms${o.kafkaHeap}`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Xshare:auto',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(kafkaDir, 'log4j2.xml')}`,
      `-Dkafka.logs.dir=${kafkaDir}`,
      '-cp',
      classpath,
    ];
    const started = Date.now();
    if (!existsSync(join(logDir, 'meta.properties'))) {
      // KRaft storage must be formatted once with a cluster id.
      const clusterIdFile = join(kafkaDir, 'cluster-id');
      if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, kafkaClusterId());
      const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
      await runToEnd(java, [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, '--ignore-formatted']);
    }
    const out = openSync(join(kafkaDir, 'server.log'), 'a');
    kafka = spawn(java, [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', out, out] });
    await waitFor('Kafka', () => portOpen(o.kafkaPort), 60_000, kafka);
    o.log.info({ port: o.kafkaPort, ms: Date.now() - started }, 'Kafka started');
  }

  try {
    await Promise.all([o.only === 'kafka' ? undefined : startClickHouse(), o.only === 'clickhouse' ? undefined : startKafka()]);
  } catch (err) {
    // Never leave a half-started stack behind (an orphan would be "reused" by the next start).
    await Promise.all([stopChild(kafka, 5000), stopChild(clickhouse, 5000)]);
    throw err;
  }

  const stack: EmbeddedStack = {
    kafkaBrokers: [`127.0.0.1:${o.kafkaPort}`],
    clickhouseUrl: `http://127.0.0.1:${o.clickhouseHttpPort}`,
    async stop() {
      await Promise.all([stopChild(kafka, 20_000), stopChild(clickhouse, 15_000)]);
    },
    stopKafka: () => stopChild(kafka, 20_000),
    startKafka,
    stopClickHouse: () => stopChild(clickhouse, 15_000),
    startClickHouse,
  };
  return stack;
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints). */
function kafkaClusterId(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}

function runToEnd(cmd: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${cmd} ${args.at(-4)} failed (${code}): ${output.slice(-2000)}`))));
  });
}
