// Applies sql/migrations/NNNN_*.sql in order and records each in viral.schema_migrations
// (conventions §10). Every migration is `CREATE … IF NOT EXISTS` or otherwise idempotent, so a
// crash between applying and recording is harmless: the next run applies it again.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouse } from './client.ts';
import { raw, sql, str } from './sql.ts';

export const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  name: string;
  statement: string;
}

/** Reads the migration files; one statement per file, header comments stripped. */
export function readMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      if (!MIGRATION_FILE.test(name)) throw new Error(`migration file name ${name} does not match NNNN_verb_object.sql`);
      const text = readFileSync(join(dir, name), 'utf8');
      const statement = text
        .split('\n')
        .filter((l) => !l.trim().startsWith('--'))
        .join('\n')
        .trim()
        .replace(/;\s*$/, '');
      if (!statement) throw new Error(`migration ${name} is empty`);
      if (statement.includes(';')) throw new Error(`migration ${name} holds more than one statement`);
      return { name, statement };
    });
}

/** Applies pending migrations; returns the names applied by this call. */
export async function migrate(ch: ClickHouse, dir: string): Promise<string[]> {
  await ch.command(raw('CREATE DATABASE IF NOT EXISTS viral'));
  await ch.command(
    raw(
      'CREATE TABLE IF NOT EXISTS viral.schema_migrations (name String, applied_at DateTime) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name',
    ),
  );
  const done = new Set((await ch.query<{ name: string }>(raw('SELECT DISTINCT name FROM viral.schema_migrations'))).map((r) => r.name));
  const applied: string[] = [];
  for (const m of readMigrations(dir)) {
    if (done.has(m.name)) continue;
    // Migration text is trusted repository content, not user input.
    await ch.command(raw(m.statement), { maxExecutionTime: 300 });
    await ch.command(sql`INSERT INTO viral.schema_migrations (name, applied_at) VALUES (${str(m.name)}, now())`);
    applied.push(m.name);
  }
  return applied;
}
