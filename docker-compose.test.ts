// docker-compose.yml cannot run here (no Docker engine), so it is checked by parsing it (issue 6):
// services, images, ports, environment and mounts agree with the project's own configuration.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, parseApiKeys } from './core/config.ts';
import { PROCESSORS_NODE_FLAGS } from './processors/node-flags.ts';
import { INGEST_NODE_FLAGS } from './ingest/node-flags.ts';

const root = import.meta.dirname;
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; ports?: string[]; environment?: Record<string, unknown>; volumes?: string[]; healthcheck?: unknown; depends_on?: Record<string, { condition: string }> }>;
  volumes: Record<string, unknown>;
};
const defaults = loadConfig({});

describe('docker-compose.yml', () => {
  it('has every part of the pipeline, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'clickhouse', 'grafana', 'ingest', 'kafka', 'migrate', 'processors', 'prometheus']);
    for (const [name, s] of Object.entries(compose.services)) if (name !== 'migrate') expect(s.healthcheck, name).toBeDefined();
  });

  it('pins a current Kafka (KRaft), a current ClickHouse LTS and Grafana with the ClickHouse plugin', () => {
    expect(compose.services.kafka.image).toMatch(/^apache\/kafka:4\./);
    expect(compose.services.kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services.clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:2\d\.\d+$/);
    expect(compose.services.grafana.environment?.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
  });

  it('builds the services from the Dockerfile and runs their main modules', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    for (const name of ['ingest', 'processors', 'api']) {
      expect(compose.services[name].build).toBe('.');
      const script = compose.services[name].command!.at(-1)!;
      expect(script).toBe(`${name}/main.ts`);
      expect(existsSync(join(root, script))).toBe(true);
    }
    expect(existsSync(join(root, compose.services.migrate.command!.at(-1)!))).toBe(true);
  });

  it('publishes the ports the config defaults to, and wires the services by environment', () => {
    expect(compose.services.ingest.ports).toEqual([`${defaults.ingestPort}:${defaults.ingestPort}`]);
    expect(compose.services.api.ports).toEqual([`${defaults.apiPort}:${defaults.apiPort}`]);
    expect(compose.services.clickhouse.ports).toEqual([`${defaults.clickhouseHttpPort}:8123`]);
    for (const name of ['ingest', 'processors', 'api', 'migrate']) {
      const env = compose.services[name].environment!;
      // Every variable is one loadConfig reads, and the env is valid for it.
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[^}]+\}/g, '')]));
      resolved.VIRAL_API_KEYS = 'compose-test-key:ingest:demo';
      resolved.VIRAL_HASH_SALT = 'a-salt-of-sixteen-chars';
      const cfg = loadConfig(resolved);
      expect(cfg.kafkaBrokers).toEqual(['kafka:9092']);
      expect(cfg.clickhouseUrl).toBe('http://clickhouse:8123');
      expect(cfg.env).toBe('production');
      expect(String(env.VIRAL_API_KEYS)).toMatch(/^\$\{VIRAL_API_KEYS:\?/);
    }
    expect(compose.services.ingest.environment!.INGEST_HOST).toBe('0.0.0.0');
    // Ingest and the processors get the same V8 flags as under npm start.
    expect(compose.services.ingest.command).toEqual(['node', ...INGEST_NODE_FLAGS, '--import', 'tsx', 'ingest/main.ts']);
    expect(compose.services.processors.command).toEqual(['node', ...PROCESSORS_NODE_FLAGS, '--import', 'tsx', 'processors/main.ts']);
    expect(parseApiKeys('k1234567:read:demo')).toHaveLength(1);
  });

  it('mounts the Grafana provisioning and dashboards, and keeps data in named volumes', () => {
    const g = compose.services.grafana.volumes!;
    expect(g).toContain('./dashboards/provisioning:/etc/grafana/provisioning:ro');
    expect(g).toContain('./dashboards/generated:/var/lib/grafana/dashboards:ro');
    for (const name of ['kafka', 'clickhouse', 'grafana', 'prometheus']) {
      const named = compose.services[name].volumes!.map((v) => v.split(':')[0]).filter((v) => !v.startsWith('.'));
      for (const v of named) expect(compose.volumes).toHaveProperty(v);
    }
  });

  it('lets Prometheus scrape every service at the port it listens on', () => {
    const prom = parse(readFileSync(join(root, 'deploy', 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c.static_configs[0].targets[0]]));
    expect(targets).toEqual({ ingest: `ingest:${defaults.ingestPort}`, api: `api:${defaults.apiPort}`, processors: `processors:${compose.services.processors.environment!.PROCESSORS_METRICS_PORT}` });
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('names every port in its header comment', () => {
    const header = readFileSync(join(root, 'docker-compose.yml'), 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
    for (const port of ['8080', '8081', '8082', '3000', '8123', '9092', '9090']) expect(header).toContain(port);
  });
});
