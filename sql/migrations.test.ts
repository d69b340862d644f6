// Lint of the migrations (conventions §10, design §2): one statement each, numbered, with a header
// saying why and whether it is blocking, and nothing that fails on ClickHouse 18.16.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrations } from '../core/clickhouse/migrate.ts';

const dir = join(import.meta.dirname, 'migrations');
const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));

const FORBIDDEN = [
  { pattern: /\{\s*\w+\s*:/, why: 'query parameters {x:Type}' },
  { pattern: /\bOVER\s*\(/i, why: 'window functions' },
  { pattern: /\bTTL\b/i, why: 'TTL clauses' },
  { pattern: /DateTime64/i, why: 'DateTime64' },
  { pattern: /toStartOfInterval/i, why: 'toStartOfInterval' },
  { pattern: /LowCardinality/i, why: 'LowCardinality (needs a setting on 18.16)' },
  { pattern: /\bMap\s*\(/, why: 'Map type' },
  { pattern: /\bCODEC\s*\(/i, why: 'codecs' },
];

describe('migrations', () => {
  it('are numbered uniquely and parse as one statement each', () => {
    const ms = readMigrations(dir);
    expect(ms.length).toBe(files.length);
    const numbers = files.map((f) => f.slice(0, 4));
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it.each(files.map((f) => ({ file: f })))('$file has a header and only portable SQL', ({ file }) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text.startsWith('--')).toBe(true);
    expect(text).toMatch(/-- blocking: (yes|no)/);
    // Comments may name the forbidden features (to say why they are avoided); statements may not.
    const statement = readMigrations(dir).find((m) => m.name === file)!.statement;
    for (const f of FORBIDDEN) expect(statement, `${file} uses ${f.why}`).not.toMatch(f.pattern);
    expect(statement).toMatch(/IF NOT EXISTS/);
  });
});
