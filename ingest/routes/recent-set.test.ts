// RecentSet against lru-cache (what it replaced): same answers to `has` for any sequence of
// has/add, including refreshes and evictions.
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { RecentSet } from './recent-set.ts';

function rng(seed: number) {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

describe('RecentSet', () => {
  it('evicts the least recently added key; has() does not refresh, add() does', () => {
    const s = new RecentSet(3);
    for (const k of ['a', 'b', 'c']) s.add(k);
    expect(s.has('a')).toBe(true); // no refresh
    s.add('d'); // evicts a
    expect(['a', 'b', 'c', 'd'].map((k) => s.has(k))).toEqual([false, true, true, true]);
    s.add('b'); // refresh b: c is now the oldest
    s.add('e'); // evicts c
    expect(['b', 'c', 'd', 'e'].map((k) => s.has(k))).toEqual([true, false, true, true]);
    expect(s.size).toBe(3);
  });

  it('works with a capacity of one', () => {
    const s = new RecentSet(1);
    s.add('a');
    s.add('a');
    expect(s.has('a')).toBe(true);
    s.add('b');
    expect([s.has('a'), s.has('b'), s.size]).toEqual([false, true, 1]);
  });

  it.each([1, 2, 7, 64])('answers like lru-cache under random has/add (capacity %i)', (max) => {
    const random = rng(max * 7919);
    const mine = new RecentSet(max);
    const ref = new LRUCache<string, true>({ max });
    const universe = max * 3 + 2;
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * universe)}`;
      if (random() < 0.5) {
        mine.add(key);
        ref.set(key, true);
      } else {
        expect(mine.has(key)).toBe(ref.has(key));
      }
      expect(mine.size).toBe(ref.size);
    }
    for (let k = 0; k < universe; k++) expect(mine.has(`k${k}`)).toBe(ref.has(`k${k}`));
  });
});
