// OneOrMap: the entry itself until a second key comes, then a Map — answering as a Map would.
import { describe, expect, it } from 'vitest';
import { oneOrMapDelete, oneOrMapForEach, oneOrMapGet, oneOrMapSet, oneOrMapSome, oneOrMapValues, type OneOrMap } from './one-or-map.ts';

interface Entry {
  id: string;
  n: number;
}
const keyOf = (e: Entry) => e.id;

describe('OneOrMap', () => {
  it('holds one entry as itself, and answers gets and values for it', () => {
    const a = { id: 'a', n: 1 };
    const c = oneOrMapSet<Entry>(null, 'a', a, keyOf);
    expect(c).toBe(a);
    expect(oneOrMapGet(c, 'a', keyOf)).toBe(a);
    expect(oneOrMapGet(c, 'b', keyOf)).toBeUndefined();
    expect(oneOrMapValues(c)).toEqual([a]);
    expect(oneOrMapValues<Entry>(undefined)).toEqual([]);
    expect(oneOrMapGet<Entry>(null, 'a', keyOf)).toBeUndefined();
  });

  it('replaces the one entry under its own key without making a Map', () => {
    const c = oneOrMapSet<Entry>(oneOrMapSet<Entry>(null, 'a', { id: 'a', n: 1 }, keyOf), 'a', { id: 'a', n: 2 }, keyOf);
    expect(c).not.toBeInstanceOf(Map);
    expect(oneOrMapValues(c)).toEqual([{ id: 'a', n: 2 }]);
  });

  it('becomes a Map at the second key and then behaves as one (order of first insertion, replace in place)', () => {
    let c: OneOrMap<Entry> | null = null;
    for (const e of [{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }, { id: 'a', n: 4 }]) c = oneOrMapSet(c, e.id, e, keyOf);
    expect(c).toBeInstanceOf(Map);
    expect(oneOrMapValues(c)).toEqual([{ id: 'a', n: 4 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }]);
    expect(oneOrMapGet(c, 'b', keyOf)).toEqual({ id: 'b', n: 2 });
  });

  it('visits the entries in the order of their keys, one entry or a Map', () => {
    const seen = (c: OneOrMap<Entry> | null) => {
      const out: string[] = [];
      oneOrMapForEach(c, (e) => out.push(e.id + e.n));
      return out;
    };
    expect(seen(null)).toEqual([]);
    let c: OneOrMap<Entry> = oneOrMapSet<Entry>(null, 'b', { id: 'b', n: 1 }, keyOf);
    expect(seen(c)).toEqual(['b1']);
    c = oneOrMapSet(c, 'a', { id: 'a', n: 2 }, keyOf);
    c = oneOrMapSet(c, 'b', { id: 'b', n: 3 }, keyOf);
    expect(seen(c)).toEqual(['b3', 'a2']);
  });

  it('answers whether some entry passes a test, one entry or a Map', () => {
    const big = (e: Entry) => e.n > 1;
    expect(oneOrMapSome<Entry>(undefined, big)).toBe(false);
    let c: OneOrMap<Entry> = oneOrMapSet<Entry>(null, 'a', { id: 'a', n: 1 }, keyOf);
    expect(oneOrMapSome(c, big)).toBe(false);
    c = oneOrMapSet(c, 'b', { id: 'b', n: 2 }, keyOf);
    expect(oneOrMapSome(c, big)).toBe(true);
    expect(oneOrMapSome(c, (e) => e.n > 2)).toBe(false);
  });

  it('deletes down to the remaining entry itself, then to nothing', () => {
    let c: OneOrMap<Entry> | undefined = oneOrMapSet<Entry>(null, 'a', { id: 'a', n: 1 }, keyOf);
    expect(oneOrMapDelete(c, 'x', keyOf)).toBe(c);
    c = oneOrMapSet(c, 'b', { id: 'b', n: 2 }, keyOf);
    c = oneOrMapSet(c, 'c', { id: 'c', n: 3 }, keyOf);
    c = oneOrMapDelete(c, 'a', keyOf);
    expect(c).toBeInstanceOf(Map);
    expect(oneOrMapValues(c)).toEqual([{ id: 'b', n: 2 }, { id: 'c', n: 3 }]);
    c = oneOrMapDelete(c, 'b', keyOf);
    expect(c).toEqual({ id: 'c', n: 3 });
    expect(oneOrMapDelete(c, 'c', keyOf)).toBeUndefined();
    expect(oneOrMapDelete<Entry>(undefined, 'c', keyOf)).toBeUndefined();
  });
});
