// The SQL module's rules, without a server (the round trip through ClickHouse is in
// sql.integration.test.ts).
import { describe, expect, it } from 'vitest';
import { dateTime, float, ident, int, join, list, raw, sql, str, MAX_STRING_LENGTH, Sql } from './sql.ts';

describe('str', () => {
  it.each([
    { input: "it's", expected: "'it\\'s'" },
    { input: 'back\\slash', expected: "'back\\\\slash'" },
    { input: 'nul\0byte', expected: "'nul\\0byte'" },
    { input: 'line\nfeed\r\t', expected: "'line\\nfeed\\r\\t'" },
    { input: 'bell\x07', expected: "'bell\\x07'" },
    { input: 'ünïcødé 😀', expected: "'ünïcødé 😀'" },
    { input: '', expected: "''" },
  ])('quotes $input', ({ input, expected }) => {
    expect(str(input).text).toBe(expected);
  });

  it('never lets a quote end the literal early', () => {
    const hostile = "x' OR 1=1; DROP TABLE viral.events; --\\'";
    const text = str(hostile).text;
    // Every quote inside is preceded by an odd number of backslashes.
    const inner = text.slice(1, -1);
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] === "'") {
        let n = 0;
        for (let j = i - 1; j >= 0 && inner[j] === '\\'; j--) n++;
        expect(n % 2).toBe(1);
      }
    }
  });

  describe('robustness to invalid data', () => {
    it.each([
      { description: 'a number', value: 5 },
      { description: 'null', value: null },
      { description: 'an object', value: { toString: () => "'" } },
      { description: 'a lone surrogate', value: 'a\uD800b' },
      { description: 'a string over the limit', value: 'x'.repeat(MAX_STRING_LENGTH + 1) },
    ])('rejects $description', ({ value }) => {
      expect(() => str(value)).toThrow(/invalid SQL value/);
    });
  });
});

describe('numbers, dates, identifiers', () => {
  it('accepts safe integers and finite floats only', () => {
    expect(int(42).text).toBe('42');
    expect(int(-7).text).toBe('-7');
    expect(float(0.1).text).toBe('toFloat64(0.1)');
    expect(float(1e-300).text).toBe('toFloat64(1e-300)');
    for (const bad of [1.5, NaN, Infinity, 2 ** 60, '1', null]) expect(() => int(bad)).toThrow(/invalid SQL value/);
    for (const bad of [NaN, Infinity, -Infinity, '1']) expect(() => float(bad)).toThrow(/invalid SQL value/);
  });

  it('turns dates into whole seconds in the DateTime range', () => {
    expect(dateTime(Date.UTC(2026, 0, 1, 0, 0, 1, 999)).text).toBe(`toDateTime(${Date.UTC(2026, 0, 1, 0, 0, 1) / 1000})`);
    expect(() => dateTime(-1000)).toThrow(/DateTime range/);
    expect(() => dateTime(5e12 * 1000)).toThrow(/DateTime range/);
    expect(() => dateTime(NaN)).toThrow();
  });

  it('checks identifiers against the pattern and the whitelist', () => {
    expect(ident('k_factor').text).toBe('k_factor');
    expect(ident('day', ['hour', 'day']).text).toBe('day');
    for (const bad of ['1a', 'a b', 'a;b', 'a`', '', 'x'.repeat(65)]) expect(() => ident(bad)).toThrow(/invalid identifier/);
    expect(() => ident('week', ['hour'])).toThrow(/not allowed/);
  });
});

describe('sql tag', () => {
  it('interpolates fragments only', () => {
    const q = sql`SELECT ${ident('a')} FROM t WHERE x IN ${list([str('p'), str("q'")])} AND ${join([raw('1'), int(2)], ' = ')}`;
    expect(q.text).toBe("SELECT a FROM t WHERE x IN ('p', 'q\\'') AND 1 = 2");
    expect(q).toBeInstanceOf(Sql);
  });

  it('throws when a plain string sneaks in', () => {
    const evil = "'; DROP TABLE x; --" as unknown as Sql;
    expect(() => sql`SELECT ${evil}`).toThrow(/not an Sql fragment/);
    expect(() => list([])).toThrow(/empty list/);
  });
});
