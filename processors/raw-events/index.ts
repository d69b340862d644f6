// Raw sink (issue 2 item 6): every valid event into `viral.events`, one row per event.
// Idempotent: the table is a ReplacingMergeTree on (app_id, event_id) and reads dedupe on that key.
import type { ViralEvent } from '../../core/events/types.ts';
import type { Processor, RowBatch } from '../../core/processor.ts';
import { RAW_TABLE, toRawRow } from '../../core/clickhouse/raw-events.ts';

export function createRawEventsProcessor(): Processor {
  return {
    name: 'raw-events',
    apply(events: readonly ViralEvent[]): RowBatch[] {
      return [{ table: RAW_TABLE, rows: events.map(toRawRow) }];
    },
  };
}
