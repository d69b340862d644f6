import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentKeys } from './recent-keys.ts';

describe('RecentKeys', () => {
  it('always remembers the last `generation` keys added and holds at most twice that', () => {
    const g = 50;
    const keys = new RecentKeys(g);
    for (let i = 0; i < 1000; i++) {
      keys.add(`k${i}`);
      for (let j = Math.max(0, i - g + 1); j <= i; j++) expect(keys.has(`k${j}`)).toBe(true);
      expect(keys.size).toBeLessThanOrEqual(2 * g);
    }
    // Long gone keys are forgotten, so memory stays bounded.
    expect(keys.has('k0')).toBe(false);
    expect(keys.has(`k${1000 - 2 * g - 1}`)).toBe(false);
    expect(keys.has('never')).toBe(false);
  });

  it('refuses a generation below 1 and a filter size that is not a power of two ≥ 32', () => {
    expect(() => new RecentKeys(0)).toThrow(/generation must be ≥ 1/);
    expect(() => new RecentKeys(10, 48)).toThrow(/filterBits must be a power of two ≥ 32/);
    expect(() => new RecentKeys(10, 16)).toThrow(/filterBits must be a power of two ≥ 32/);
  });

  it('answers exactly as two generations of Sets without the filters, however often keys share filter bits', () => {
    // The reference: the same generations, no filters.
    class Plain {
      current = new Set<string>();
      previous = new Set<string>();
      constructor(readonly generation: number) {}
      has(k: string) {
        return this.current.has(k) || this.previous.has(k);
      }
      add(k: string) {
        if (this.current.size >= this.generation) [this.previous, this.current] = [this.current, new Set()];
        this.current.add(k);
      }
    }
    const op = fc.tuple(fc.boolean(), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.constantFrom(32, 64, 1 << 21), fc.array(op, { maxLength: 300 }), (generation, bits, ops) => {
        const keys = new RecentKeys(generation, bits);
        const plain = new Plain(generation);
        for (const [isAdd, k] of ops) {
          if (isAdd) {
            keys.add(k);
            plain.add(k);
          } else expect(keys.has(k), k).toBe(plain.has(k));
          expect(keys.size).toBe(plain.current.size + plain.previous.size);
        }
        // Every key ever used, present or not, answers as the reference does.
        for (const [, k] of ops) expect(keys.has(k), k).toBe(plain.has(k));
      }),
      { numRuns: 300 },
    );
  });
});
