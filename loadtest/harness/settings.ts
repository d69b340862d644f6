// The scenario settings shared by the Node harness and the k6 scripts (loadtest/scenarios.json).
// One file so both drivers measure the same thing; the harness checks its shape here.
import { readFileSync } from 'node:fs';

export interface Targets {
  /** Issue 7 §3: ingest ≥ 80% of the raw producer rate with 100-event batches. */
  ingestVsRawProducer: number;
  /** Processors ≥ 50% of the raw consume rate. */
  processorsVsRawConsume: number;
  freshnessP95Ms: number;
  coefficientP99Ms: number;
  assignmentP99Ms: number;
}

export interface Profile {
  /** Demo events the load bodies are cut from (design §8 generator). */
  templates: { seed: number; days: number; seedUsers: number; batchSize: number };
  /** Demo history posted before the api scenario so the coefficient route reads realistic windows. */
  history: { seed: number; days: number; seedUsers: number };
  ingest: { warmupSeconds: number; durationSeconds: number; singleConnections: number; batchConnections: number };
  rawProducer: { durationSeconds: number };
  processors: { replayEvents: number };
  freshness: { samples: number; backgroundEventsPerSecond: number; pollMs: number; timeoutMs: number };
  api: { ratePerSecond: number; warmupSeconds: number; durationSeconds: number; connections: number; coefficientDays: number; granularity: 'hour' | 'day' | 'week'; assignmentUsers: number };
  concurrency: { connections: number; eventsPerSecond: number; durationSeconds: number; workers: number };
  /** Issue 4: the referral graph fed a synthetic forest (referral-forest.ts) in batches of `batchSize` events. */
  graph: { users: number; roots: number; inviteShare: number; seed: number; batchSize: number };
  /** Issue 4: GET /v1/viral/chains/:userId of a user `depth` levels deep beside `bulkUsers` other rows. */
  chains: { depth: number; bulkUsers: number; ratePerSecond: number; connections: number; warmupSeconds: number; durationSeconds: number };
}

export interface Scenarios {
  targets: Targets;
  profiles: Record<string, Profile>;
}

export const SCENARIOS_FILE = new URL('../scenarios.json', import.meta.url).pathname;

const SECTIONS: Record<keyof Profile, string[]> = {
  templates: ['seed', 'days', 'seedUsers', 'batchSize'],
  history: ['seed', 'days', 'seedUsers'],
  ingest: ['warmupSeconds', 'durationSeconds', 'singleConnections', 'batchConnections'],
  rawProducer: ['durationSeconds'],
  processors: ['replayEvents'],
  freshness: ['samples', 'backgroundEventsPerSecond', 'pollMs', 'timeoutMs'],
  api: ['ratePerSecond', 'warmupSeconds', 'durationSeconds', 'connections', 'coefficientDays', 'assignmentUsers'],
  concurrency: ['connections', 'eventsPerSecond', 'durationSeconds', 'workers'],
  graph: ['users', 'roots', 'inviteShare', 'seed', 'batchSize'],
  chains: ['depth', 'bulkUsers', 'ratePerSecond', 'connections', 'warmupSeconds', 'durationSeconds'],
};

/** Parses and checks scenarios.json: every numeric setting of every profile must be a positive number. */
export function parseScenarios(text: string): Scenarios {
  const s = JSON.parse(text) as Scenarios;
  for (const [name, profile] of Object.entries(s.profiles ?? {})) {
    for (const [section, keys] of Object.entries(SECTIONS)) {
      const values = (profile as unknown as Record<string, Record<string, unknown>>)[section];
      if (!values) throw new Error(`scenarios.json: profile ${name} lacks "${section}"`);
      for (const k of keys) {
        const v = values[k];
        if (typeof v !== 'number' || !(v > 0)) throw new Error(`scenarios.json: ${name}.${section}.${k} must be a positive number, got ${JSON.stringify(v)}`);
      }
    }
    if (!['hour', 'day', 'week'].includes(profile.api.granularity)) throw new Error(`scenarios.json: ${name}.api.granularity must be hour, day or week`);
  }
  for (const k of Object.keys({ ingestVsRawProducer: 0, processorsVsRawConsume: 0, freshnessP95Ms: 0, coefficientP99Ms: 0, assignmentP99Ms: 0 } satisfies Record<keyof Targets, 0>)) {
    if (typeof (s.targets as unknown as Record<string, unknown>)?.[k] !== 'number') throw new Error(`scenarios.json: targets.${k} must be a number`);
  }
  return s;
}

export function loadScenarios(file = SCENARIOS_FILE): Scenarios {
  return parseScenarios(readFileSync(file, 'utf8'));
}
