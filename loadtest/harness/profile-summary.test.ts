import { describe, it, expect } from 'vitest';
import { owner, summarizeProfile, type CpuProfile } from './profile-summary.ts';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
    { id: 2, callFrame: frame('validateEvent', 'file:///repo/core/events/validate.ts') },
    { id: 3, callFrame: frame('encode', 'file:///repo/node_modules/kafkajs/src/protocol/encoder.js') },
    { id: 4, callFrame: frame('(idle)', '') },
  ],
  samples: [2, 3, 2, 4, 2, 3],
  timeDeltas: [1000, 2000, 1000, 4000, 1000, 1000],
  startTime: 0,
  endTime: 10_000,
};

describe('summarizeProfile', () => {
  it('adds the sample intervals of each function and package, as shares of the busy time', () => {
    const s = summarizeProfile(profile);
    expect(s.busyMs).toBe(6);
    expect(s.idleMs).toBe(4);
    expect(s.functions).toEqual([
      { name: 'validateEvent core/events/validate.ts:10', selfMs: 3, share: 0.5 },
      { name: 'encode node_modules/kafkajs/src/protocol/encoder.js:10', selfMs: 3, share: 0.5 },
    ]);
    expect(s.packages.map((p) => [p.name, p.selfMs])).toEqual([
      ['core/events', 3],
      ['kafkajs', 3],
    ]);
  });

  it.each([
    { url: 'file:///w/node_modules/@clickhouse/client/dist/x.js', fn: 'f', expected: '@clickhouse/client' },
    { url: 'file:///w/ingest/routes/events.ts', fn: 'ingest', expected: 'ingest' },
    { url: 'file:///w/processors/fraud/processor.ts', fn: 'apply', expected: 'processors/fraud' },
    { url: 'node:internal/streams/readable', fn: 'read', expected: 'node:internal' },
    { url: '', fn: '(garbage collector)', expected: '(garbage collector)' },
    { url: '', fn: 'writev', expected: '(native)' },
  ])('owner of $url $fn is $expected', ({ url, fn, expected }) => {
    expect(owner(url, fn)).toBe(expected);
  });
});
