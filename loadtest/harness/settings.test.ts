import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadScenarios, parseScenarios, SCENARIOS_FILE } from './settings.ts';

describe('scenarios.json', () => {
  it('has a quick and a full profile; quick is the smaller run', () => {
    const s = loadScenarios();
    const { quick, full } = s.profiles;
    expect(full.processors.replayEvents).toBe(1_000_000);
    expect(quick.processors.replayEvents).toBeLessThan(full.processors.replayEvents);
    expect(quick.ingest.durationSeconds).toBeLessThan(full.ingest.durationSeconds);
    expect(full.concurrency.connections).toBe(12_500);
    expect(full.api.ratePerSecond).toBe(500);
    expect(s.targets).toEqual({ ingestVsRawProducer: 0.8, processorsVsRawConsume: 0.5, freshnessP95Ms: 2000, coefficientP99Ms: 20, assignmentP99Ms: 2 });
  });

  it('names the setting that is wrong', () => {
    const s = JSON.parse(readFileSync(SCENARIOS_FILE, 'utf8'));
    s.profiles.quick.api.ratePerSecond = 0;
    expect(() => parseScenarios(JSON.stringify(s))).toThrow('quick.api.ratePerSecond');
    delete s.profiles.full.concurrency;
    s.profiles.quick.api.ratePerSecond = 1;
    expect(() => parseScenarios(JSON.stringify(s))).toThrow('profile full lacks "concurrency"');
  });
});
