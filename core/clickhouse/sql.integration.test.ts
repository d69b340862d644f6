// Hostile values round-trip through the SQL module and the real ClickHouse unchanged (issue 2).
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join as joinPath } from 'node:path';
import { testClickHouse } from '../testing/services.ts';
import { dateTime, float, int, sql, str } from './sql.ts';
import { migrate, readMigrations } from './migrate.ts';

const ch = testClickHouse();
afterAll(() => ch.close());

describe('hostile strings round-trip', () => {
  it.each([
    { description: 'quotes', value: `'"\`'''` },
    { description: 'backslashes', value: '\\\\\\' + "\\'" },
    { description: 'NUL and control characters', value: 'a\0b\x01\x1f\x7f\n\r\t\b\f' },
    { description: 'unicode', value: 'ünïcødé — 中文 — 😀👍🏽 — \u200b\uFEFF' },
    { description: 'SQL injection', value: "x'); DROP TABLE viral.events; --" },
    { description: 'a very long string', value: "a'\\".repeat(80_000) },
  ])('$description', async ({ value }) => {
    const rows = await ch.query<{ v: string; n: string }>(sql`SELECT ${str(value)} AS v, length(${str(value)}) AS n`);
    expect(rows[0].v).toBe(value);
    expect(Number(rows[0].n)).toBe(Buffer.byteLength(value, 'utf8'));
  });

  it('any valid unicode string (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), async (value) => {
        const rows = await ch.query<{ v: string }>(sql`SELECT ${str(value)} AS v`);
        expect(rows[0].v).toBe(value);
      }),
      { numRuns: 60 },
    );
  });

  it('numbers and dates', async () => {
    const t = Date.UTC(2026, 5, 30, 23, 59, 59);
    const rows = await ch.query<{ i: string; f: number; d: string }>(
      sql`SELECT toInt64(${int(-9007199254740991)}) AS i, ${float(-1.5e-7)} AS f, toString(${dateTime(t)}) AS d`,
    );
    expect(rows[0]).toEqual({ i: '-9007199254740991', f: -1.5e-7, d: '2026-06-30 23:59:59' });
  });
});

describe('migrations', () => {
  it('run twice without error and record every file once', async () => {
    const dir = joinPath(import.meta.dirname, '..', '..', 'sql', 'migrations');
    await migrate(ch, dir);
    expect(await migrate(ch, dir)).toEqual([]);
    const recorded = await ch.query<{ name: string }>(sql`SELECT DISTINCT name FROM viral.schema_migrations ORDER BY name`);
    expect(recorded.map((r) => r.name)).toEqual(readMigrations(dir).map((m) => m.name));
  });
});
