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

  it('refuses a generation below 1', () => {
    expect(() => new RecentKeys(0)).toThrow(/generation must be ≥ 1/);
  });
});
