// Retention (design §10, §2): raw events older than RETENTION_DAYS are dropped by whole monthly
// partitions on a node-cron schedule — TTL is not portable to ClickHouse 18.16. A month is dropped
// only once all of it is older than the retention, so nothing younger is ever lost.
import cron from 'node-cron';
import type { Logger } from 'pino';
import type { ClickHouse } from '../../core/clickhouse/client.ts';
import { raw, sql, str } from '../../core/clickhouse/sql.ts';

/** Tables partitioned by toYYYYMM of event time that retention applies to. */
export const RETAINED_TABLES = ['events', 'fraud_signals'] as const;

/**
 * Partitions (YYYYMM) to drop: those whose month ended at or before `now − retentionDays`.
 * Pure; `partitions` are the YYYYMM ids present.
 */
export function partitionsToDrop(partitions: readonly string[], now: number, retentionDays: number): string[] {
  const cutoff = new Date(now - retentionDays * 86_400_000);
  // First month that may still hold rows younger than the cutoff.
  const keepFrom = cutoff.getUTCFullYear() * 100 + cutoff.getUTCMonth() + 1;
  return partitions.filter((p) => /^\d{6}$/.test(p) && Number(p) < keepFrom).sort();
}

export async function runRetention(ch: ClickHouse, now: number, retentionDays: number, log: Logger): Promise<string[]> {
  const dropped: string[] = [];
  for (const table of RETAINED_TABLES) {
    const parts = await ch.query<{ partition: string }>(
      sql`SELECT DISTINCT partition FROM system.parts WHERE database = 'viral' AND table = ${str(table)} AND active`,
    );
    for (const p of partitionsToDrop(parts.map((r) => r.partition), now, retentionDays)) {
      // p matched ^\d{6}$ above: an unquoted partition literal works on 18.16 and current versions.
      await ch.command(raw(`ALTER TABLE viral.${table} DROP PARTITION ${p}`));
      dropped.push(`${table}:${p}`);
    }
  }
  if (dropped.length) log.info({ dropped, retentionDays }, 'retention dropped partitions');
  return dropped;
}

/** Schedules the retention daily at 03:17 UTC (and once at start). */
export function scheduleRetention(ch: ClickHouse, retentionDays: number, log: Logger): { stop(): void } {
  const run = () => runRetention(ch, Date.now(), retentionDays, log).catch((err) => log.error({ err: err.message }, 'retention failed'));
  void run();
  const task = cron.schedule('17 3 * * *', run, { timezone: 'UTC' });
  return { stop: () => void task.stop() };
}
