// "Every derived metric equals a batch recomputation" (issues 3, 4, 8): the pure processors are fed
// the acknowledged events in one batch, their final rows are written under a shadow app id through
// the same insert path, and each derived table is compared between the real app and its shadow
// with FINAL (latest version per key) — so both sides pass the same type conversions.
import type { ClickHouse } from '../clickhouse/client.ts';
import { ident, join, raw, sql, str } from '../clickhouse/sql.ts';
import type { ViralEvent } from '../events/types.ts';
import type { Processor } from '../processor.ts';

/** Columns that legitimately depend on arrival order, per table (documented by their processors). */
const ORDER_DEPENDENT: Record<string, string[]> = {
  // The population statistics in the evidence are the ones at detection time.
  fraud_signals: ['evidence'],
};

/** Rows that carry nothing and may exist only on one side (e.g. a currency row a buyer moved away from). */
const EMPTY_ROWS: Record<string, string> = {
  referral_attribution: 'NOT (direct_referred_revenue = 0 AND chain_referred_revenue = 0)',
};

export async function writeShadow(ch: ClickHouse, processors: Processor[], events: ViralEvent[], shadowApp: string, now: number): Promise<void> {
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const p of processors) {
    for (const b of p.apply(events, now)) {
      const rows = byTable.get(b.table) ?? [];
      for (const r of b.rows) rows.push({ ...r, app_id: shadowApp });
      byTable.set(b.table, rows);
    }
  }
  for (const [table, rows] of byTable) await ch.insert(`viral.${table}`, rows);
}

export interface TableDiff {
  table: string;
  actual: number;
  expected: number;
  firstDifference?: { actual: unknown; expected: unknown };
}

export async function compareWithShadow(ch: ClickHouse, tables: readonly string[], app: string, shadowApp: string): Promise<TableDiff[]> {
  const diffs: TableDiff[] = [];
  for (const table of tables) {
    const cols = (
      await ch.query<{ name: string }>(sql`SELECT name FROM system.columns WHERE database = 'viral' AND table = ${str(table)}`)
    )
      .map((c) => c.name)
      .filter((n) => n !== 'app_id' && n !== 'version' && !(ORDER_DEPENDENT[table] ?? []).includes(n));
    const list = join(cols.map((c) => ident(c)), ', ');
    const filters = [cols.includes('retracted') ? 'retracted = 0' : '', EMPTY_ROWS[table] ?? ''].filter(Boolean);
    // Trusted constant SQL text from the tables above (no input reaches it).
    const onlyLive = raw(filters.map((f) => `AND ${f}`).join(' '));
    const read = (a: string) => ch.query(sql`SELECT ${list} FROM viral.${ident(table)} FINAL WHERE app_id = ${str(a)} ${onlyLive} ORDER BY ${list}`);
    const [actual, expected] = await Promise.all([read(app), read(shadowApp)]);
    const i = actual.findIndex((r, k) => !sameRow(r, expected[k]));
    if (actual.length !== expected.length || i >= 0) {
      const k = i >= 0 ? i : Math.min(actual.length, expected.length);
      diffs.push({ table, actual: actual.length, expected: expected.length, firstDifference: { actual: actual[k], expected: expected[k] } });
    }
  }
  return diffs;
}

/**
 * Equal rows; Float64 sums may differ in the last bits with the order of additions (streaming adds
 * and subtracts incrementally), so floats compare to 1e-9 relative. Integers come back as strings.
 */
function sameRow(a: Record<string, unknown>, b: Record<string, unknown> | undefined): boolean {
  if (!b) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
    return JSON.stringify(x) === JSON.stringify(y);
  });
}
