// A keyed collection that is usually of one entry (a user's one sign-up, one device, one
// experiment exposure): the entry itself, and a Map only from the second key. A Map of one entry
// costs ~180 bytes, and the processors keep such collections for every user. `keyOf` gives an
// entry's key; entries are objects, never Maps.
export type OneOrMap<V extends object> = V | Map<string, V>;

export function oneOrMapGet<V extends object>(c: OneOrMap<V> | null | undefined, key: string, keyOf: (v: V) => string): V | undefined {
  if (c === null || c === undefined) return undefined;
  if (c instanceof Map) return c.get(key);
  return keyOf(c) === key ? c : undefined;
}

/** The collection with `value` under `key` (an entry of that key replaced): store what it returns. */
export function oneOrMapSet<V extends object>(c: OneOrMap<V> | null | undefined, key: string, value: V, keyOf: (v: V) => string): OneOrMap<V> {
  if (c === null || c === undefined) return value;
  if (c instanceof Map) return c.set(key, value);
  return keyOf(c) === key ? value : new Map([[keyOf(c), c], [key, value]]);
}

/** The entries, in the order their keys first came. */
export function oneOrMapValues<V extends object>(c: OneOrMap<V> | null | undefined): V[] {
  if (c === null || c === undefined) return [];
  return c instanceof Map ? [...c.values()] : [c];
}

/** Calls `fn` with each entry, in the order their keys first came (no array made). */
export function oneOrMapForEach<V extends object>(c: OneOrMap<V> | null | undefined, fn: (v: V) => void): void {
  if (c === null || c === undefined) return;
  if (c instanceof Map) for (const v of c.values()) fn(v);
  else fn(c);
}

/** Whether some entry satisfies `test` (stops at the first; no array made). */
export function oneOrMapSome<V extends object>(c: OneOrMap<V> | null | undefined, test: (v: V) => boolean): boolean {
  if (c === null || c === undefined) return false;
  if (!(c instanceof Map)) return test(c);
  for (const v of c.values()) if (test(v)) return true;
  return false;
}

/**
 * The collection without the entry of `key`: undefined once empty, the remaining entry itself once
 * one is left (store what it returns).
 */
export function oneOrMapDelete<V extends object>(c: OneOrMap<V> | undefined, key: string, keyOf: (v: V) => string): OneOrMap<V> | undefined {
  if (c === undefined) return undefined;
  if (!(c instanceof Map)) return keyOf(c) === key ? undefined : c;
  c.delete(key);
  if (c.size > 1) return c;
  return c.size === 1 ? c.values().next().value : undefined;
}
