// "Every derived metric equals a batch recomputation" (issues 3, 4, 8): the pure processors are fed
// the acknowledged events in one batch, their final rows are written under a shadow app id through
// the same insert path, and each derived table is compared between the real app and its shadow
// with FINAL (latest version per key) — so both sides pass the same type conversions.
import type { ClickHouse } from '../clickhouse/client.ts';
import { ident, join, raw, sql, str } from '../clickhouse/sql.ts';
import type { ViralEvent } from '../events/types.ts';
import { validateEvent } from '../events/validate.ts';
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

/** Posted events as ingest normalizes them when posted without `sent_at` (no clock-skew shift). */
export function normalizeAll(posted: readonly unknown[], appId: string, hashSalt: string, receivedAt: number): ViralEvent[] {
  return posted.map((e) => {
    const r = validateEvent(e, { appId, receivedAt, skewMs: 0, ipHash: '', hashSalt });
    if (!r.ok) throw new Error(`event invalid: ${r.errors.join('; ')}`);
    return r.event;
  });
}

/**
 * Writes the one-batch computation under `<app>_batch` and waits until every derived table of the
 * app equals it; returns the differences left at the timeout ([] when equal).
 */
export async function derivedDiffsFromBatch(
  ch: ClickHouse,
  registry: { createProcessors(): Processor[]; derivedTables: readonly string[] },
  events: ViralEvent[],
  app: string,
  timeoutMs: number,
): Promise<TableDiff[]> {
  const shadow = `${app}_batch`;
  await writeShadow(ch, registry.createProcessors(), events, shadow, Date.now());
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diffs = await compareWithShadow(ch, registry.derivedTables, app, shadow);
    if (diffs.length === 0 || Date.now() > deadline) return diffs;
    await new Promise((r) => setTimeout(r, 500));
  }
}
