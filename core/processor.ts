// The contract between the processor runtime (core/kafka/run-pipeline.ts) and a processor.
//
// Design §4 and conventions §3–4. The runtime consumes `viral.events.v1` in one consumer group;
// for each Kafka batch it (1) writes the raw events to `viral.events` (idempotent, dedup on
// (app_id, event_id)), (2) hands the decoded events to every processor's `apply`, (3) writes
// every returned row batch to ClickHouse (ReplacingMergeTree tables, idempotent upserts), and only
// then (4) commits the offsets. On start it rebuilds each processor's in-memory state by feeding
// it every event already in `viral.events` (which always holds at least everything committed)
// before it consumes anything new.
//
// Rules for a processor:
// - `apply` does no I/O and reads no clock: time comes in as `now` (used only for row versions
//   and "as of" fields, never for deciding what an event means).
// - Order independence: any arrival order, duplicates and restarts give the same state and the
//   same final rows as a batch computation over the deduplicated event set.
// - `apply` returns the CURRENT full row for every key that any input event touches, even when
//   the event is a duplicate already folded into the state. (A batch that was sunk only partly
//   before a crash is replayed after restore; re-emitting makes the replay complete it.)
// - Rows are upserts: each table is a ReplacingMergeTree whose version column is `version`
//   (UInt64), and `apply` sets `version` from `now` (see `rowVersion`).
import type { ViralEvent } from './events/types.ts';

export interface RowBatch {
  /** Table name without database, e.g. 'kfactor_windows' (database `viral`). */
  table: string;
  rows: Record<string, unknown>[];
}

export interface Processor {
  /** Metric label and log module, e.g. 'k-factor'. */
  readonly name: string;
  /** Fold the events into the state and return the rows to upsert. Pure apart from its own state. */
  apply(events: readonly ViralEvent[], now: number): RowBatch[];
  /** Forget everything about one user (privacy erase, design §10); returns rows to upsert. */
  eraseUser?(appId: string, userId: string, now: number): RowBatch[];
}

let lastVersion = 0;
/**
 * Monotonic row version for ReplacingMergeTree: microseconds since epoch, strictly increasing
 * within the process, so a later upsert of the same key always wins.
 */
export function rowVersion(now: number): number {
  const v = Math.max(Math.floor(now) * 1000, lastVersion + 1);
  lastVersion = v;
  return v;
}

/**
 * Appends each item to `out` once per apply: an item whose `listedIn` is already `apply` was
 * listed earlier in it (the k-factor and cohort cells a batch touches, emitted as rows once).
 */
export function listOnce<T extends { listedIn: number }>(items: readonly T[], apply: number, out: T[]): void {
  for (const item of items) {
    if (item.listedIn === apply) continue;
    item.listedIn = apply;
    out.push(item);
  }
}
