// One config function (conventions §9): `loadConfig(env)` is pure, so tests pass a literal env.
// Modules receive the config as an argument and never read process.env themselves.
import { resolve } from 'node:path';
import { DLQ_TOPIC, ERASURES_TOPIC, EVENTS_TOPIC, PROCESSORS_GROUP, UPDATES_TOPIC } from './topics.ts';

export type Scope = 'ingest' | 'read' | 'admin';
export interface ApiKey {
  key: string;
  scope: Scope;
  appId: string;
}

export interface Config {
  env: 'production' | 'development' | 'test';
  rootDir: string;
  /** Empty → the embedded Kafka is started (design §2). */
  kafkaBrokers: string[];
  /** Empty → the embedded ClickHouse is started. */
  clickhouseUrl: string;
  clickhouseUser: string;
  clickhousePassword: string;
  clickhouseDatabase: string;
  dataDir: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  kafkaHeap: string;
  clickhouseHttpPort: number;
  clickhouseTcpPort: number;
  ingestHost: string;
  ingestPort: number;
  apiHost: string;
  apiPort: number;
  /** Processors' /health, /ready, /metrics. */
  processorsMetricsHost: string;
  processorsMetricsPort: number;
  apiKeys: ApiKey[];
  /** True when VIRAL_API_KEYS was not set and the dev keys of app `demo` apply. */
  devKeys: boolean;
  /** Salt of the device/IP hashes. */
  hashSalt: string;
  /** Trusted proxy setting passed to Fastify's `trustProxy` (false, true, or addresses). */
  trustProxy: boolean | string;
  /** Ingest producer batching (design §3: kafkajs does not batch). */
  produceLingerMs: number;
  produceMaxBatch: number;
  /** Kafka requests of the ingest producer awaiting their acks at once; more sends wait and merge. */
  produceMaxInFlight: number;
  /** Per-key rate limits (requests per minute). */
  ingestRateLimit: number;
  apiRateLimit: number;
  /** How long identical api answers are reused (ms; 0 = only coalesce concurrent requests). */
  apiCacheMs: number;
  /** After API_CACHE_MS, how long an answer is still served while one query refreshes it (ms). */
  apiCacheStaleMs: number;
  /** Allowed CORS origins for browser apps ('' = CORS off, '*' = any). */
  corsOrigins: string;
  topicPartitions: number;
  /** Topic names (defaults in core/topics.ts; tests use their own). */
  eventsTopic: string;
  dlqTopic: string;
  erasuresTopic: string;
  updatesTopic: string;
  processorsGroup: string;
  /** Most events the processors fold and write per step (PROCESSOR_MAX_BATCH); sets the fetch size too. */
  processorMaxBatch: number;
  /** Longest the broker holds a processors' fetch to gather 512 KiB (fewer, larger steps when events trickle in). */
  processorFetchWaitMs: number;
  demo: boolean;
  demoSeed: number;
  logLevel: string;
  retentionDays: number;
  chainMaxDepth: number;
  attributionWindowDays: number;
}

const DEV_KEYS: ApiKey[] = [
  { key: 'dev-ingest-key', scope: 'ingest', appId: 'demo' },
  { key: 'dev-read-key', scope: 'read', appId: 'demo' },
  { key: 'dev-admin-key', scope: 'admin', appId: 'demo' },
];

const APP_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `key:scope:app_id,...` (design §2 "Apps and keys"); throws naming the bad entry. */
export function parseApiKeys(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const parts = entry.split(':');
      if (parts.length !== 3) throw new Error(`VIRAL_API_KEYS entry ${i + 1}: expected key:scope:app_id`);
      const [key, scope, appId] = parts;
      if (key.length < 8) throw new Error(`VIRAL_API_KEYS entry ${i + 1}: key shorter than 8 characters`);
      if (scope !== 'ingest' && scope !== 'read' && scope !== 'admin') {
        throw new Error(`VIRAL_API_KEYS entry ${i + 1}: scope must be ingest, read or admin`);
      }
      if (!APP_ID.test(appId)) throw new Error(`VIRAL_API_KEYS entry ${i + 1}: app_id must match ${APP_ID}`);
      return { key, scope, appId };
    });
}

function int(env: Record<string, string | undefined>, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' || env.VITEST ? 'test' : 'development';
  const rootDir = resolve(env.VIRAL_ROOT ?? new URL('..', import.meta.url).pathname);
  const keysSpec = env.VIRAL_API_KEYS ?? '';
  const apiKeys = keysSpec ? parseApiKeys(keysSpec) : DEV_KEYS;
  if (nodeEnv === 'production' && !keysSpec) throw new Error('VIRAL_API_KEYS is required when NODE_ENV=production');
  const salt = env.VIRAL_HASH_SALT ?? '';
  if (nodeEnv === 'production' && salt.length < 16) throw new Error('VIRAL_HASH_SALT (≥ 16 chars) is required when NODE_ENV=production');
  const trust = env.TRUST_PROXY ?? '';
  const config: Config = {
    env: nodeEnv,
    rootDir,
    kafkaBrokers: (env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    clickhouseUrl: env.CLICKHOUSE_URL ?? '',
    clickhouseUser: env.CLICKHOUSE_USER ?? 'default',
    clickhousePassword: env.CLICKHOUSE_PASSWORD ?? '',
    clickhouseDatabase: 'viral',
    dataDir: resolve(rootDir, env.VIRAL_DATA_DIR ?? '.local'),
    kafkaPort: int(env, 'KAFKA_PORT', 9092, 1),
    kafkaControllerPort: int(env, 'KAFKA_CONTROLLER_PORT', 9093, 1),
    kafkaHeap: env.KAFKA_HEAP ?? '384m',
    clickhouseHttpPort: int(env, 'CLICKHOUSE_HTTP_PORT', 8123, 1),
    clickhouseTcpPort: int(env, 'CLICKHOUSE_TCP_PORT', 9000, 1),
    ingestHost: env.INGEST_HOST ?? '127.0.0.1',
    ingestPort: int(env, 'INGEST_PORT', 8080),
    apiHost: env.API_HOST ?? '127.0.0.1',
    apiPort: int(env, 'API_PORT', 8081),
    processorsMetricsHost: env.PROCESSORS_METRICS_HOST ?? '127.0.0.1',
    processorsMetricsPort: int(env, 'PROCESSORS_METRICS_PORT', 8082),
    apiKeys,
    devKeys: !keysSpec,
    hashSalt: salt || 'viral-dev-salt-change-me',
    trustProxy: trust === '' || trust === 'false' ? false : trust === 'true' ? true : trust,
    produceLingerMs: int(env, 'PRODUCE_LINGER_MS', 2),
    produceMaxBatch: int(env, 'PRODUCE_MAX_BATCH', 2000, 1),
    produceMaxInFlight: int(env, 'PRODUCE_MAX_IN_FLIGHT', 1, 1),
    ingestRateLimit: int(env, 'INGEST_RATE_LIMIT', 60_000, 1),
    apiRateLimit: int(env, 'API_RATE_LIMIT', 60_000, 1),
    apiCacheMs: int(env, 'API_CACHE_MS', 3000),
    apiCacheStaleMs: int(env, 'API_CACHE_STALE_MS', 2000),
    corsOrigins: env.CORS_ORIGINS ?? '',
    topicPartitions: int(env, 'TOPIC_PARTITIONS', 4, 1),
    eventsTopic: env.EVENTS_TOPIC ?? EVENTS_TOPIC,
    dlqTopic: env.DLQ_TOPIC ?? DLQ_TOPIC,
    erasuresTopic: env.ERASURES_TOPIC ?? ERASURES_TOPIC,
    updatesTopic: env.UPDATES_TOPIC ?? UPDATES_TOPIC,
    processorsGroup: env.PROCESSORS_GROUP ?? PROCESSORS_GROUP,
    processorMaxBatch: int(env, 'PROCESSOR_MAX_BATCH', 20_000, 1),
    processorFetchWaitMs: int(env, 'PROCESSOR_FETCH_WAIT_MS', 500, 1),
    demo: (env.DEMO ?? 'on') !== 'off',
    demoSeed: int(env, 'DEMO_SEED', 42),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'info'),
    retentionDays: int(env, 'RETENTION_DAYS', 365, 31),
    chainMaxDepth: int(env, 'CHAIN_MAX_DEPTH', 50, 1),
    attributionWindowDays: int(env, 'ATTRIBUTION_WINDOW_DAYS', 30, 1),
  };
  return Object.freeze(config);
}
