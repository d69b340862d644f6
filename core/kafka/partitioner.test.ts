// CachedDefaultPartitioner chooses exactly the partition of kafkajs' DefaultPartitioner (so keyed
// events land where the Java client and every earlier producer put them), also after its cache
// was cleared, for every partition count, and leaves unkeyed and explicitly placed messages to it.
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from './kafkajs.ts';
import { CachedDefaultPartitioner } from './client.ts';

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('CachedDefaultPartitioner', () => {
  it('gives every key the default partitioner’s partition, for several partition counts, through cache clears', () => {
    const cached = CachedDefaultPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    const counts = [1, 4, 7, 128];
    let differing = 0;
    const seenPartitions = new Set<number>();
    // 70,000 distinct keys overflow the cache (65,536) once; every key is asked twice.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 70_000; i++) {
        const count = counts[i % counts.length];
        const args = { topic: 't', partitionMetadata: metadata(count), message: { key: `user-${i}-${'é'.repeat(i % 3)}`, value: 'v' } };
        const got = cached(args);
        if (got !== reference(args)) differing++;
        if (count === 128) seenPartitions.add(got);
      }
    }
    expect(differing).toBe(0);
    // The keys spread over the partitions (a constant answer would also "agree" for count 1).
    expect(seenPartitions.size).toBeGreaterThan(100);
  });

  it('keeps an explicit partition and leaves messages without a key to the default (round robin)', () => {
    const cached = CachedDefaultPartitioner();
    expect(cached({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', partition: 3, value: 'v' } })).toBe(3);
    const unkeyed = Array.from({ length: 8 }, () => cached({ topic: 't', partitionMetadata: metadata(4), message: { value: 'v' } }));
    expect(new Set(unkeyed).size).toBe(4);
  });
});
