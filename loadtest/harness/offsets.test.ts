import { describe, it, expect } from 'vitest';
import type { Admin } from 'kafkajs';
import { groupProgress } from './offsets.ts';

function fakeAdmin(ends: [number, number, number][], committed: [number, string][]): Admin {
  return {
    fetchTopicOffsets: async () => ends.map(([partition, low, high]) => ({ partition, low: String(low), high: String(high), offset: String(high) })),
    fetchOffsets: async () => [{ topic: 't', partitions: committed.map(([partition, offset]) => ({ partition, offset, metadata: null })) }],
  } as unknown as Admin;
}

describe('groupProgress', () => {
  it('counts messages from each partition start; −1 (nothing committed) is zero', async () => {
    const admin = fakeAdmin(
      [
        [0, 0, 100],
        [1, 40, 90],
        [2, 0, 30],
      ],
      [
        [0, '60'],
        [1, '90'],
        [2, '-1'],
      ],
    );
    expect(await groupProgress(admin, 'g', 't')).toEqual({ end: 100 + 50 + 30, committed: 60 + 50 + 0 });
  });
});
