// Live metric updates (design §7 `/v1/stream`): the processors publish the rows they wrote to the
// updates topic after each commit; every api instance consumes it and fans out per app over SSE.
import type { EventProducer, OutMessage } from '../kafka/client.ts';
import type { RowBatch } from '../processor.ts';

/** Tables whose rows are streamed, and the SSE event name of each. */
export const STREAMED_TABLES: Readonly<Record<string, string>> = {
  kfactor_windows: 'viral_coefficient',
  experiment_results: 'experiment_results',
  fraud_signals: 'fraud_signal',
};

export interface MetricUpdate {
  app_id: string;
  /** SSE event name. */
  kind: string;
  row: Record<string, unknown>;
}

/** The update messages for a committed batch's rows (pure). One message per app and kind. */
export function toUpdateMessages(topic: string, batches: readonly RowBatch[]): OutMessage[] {
  const out: OutMessage[] = [];
  for (const b of batches) {
    const kind = STREAMED_TABLES[b.table];
    if (!kind) continue;
    const byApp = new Map<string, Record<string, unknown>[]>();
    for (const r of b.rows) {
      const app = String(r.app_id);
      let list = byApp.get(app);
      if (!list) byApp.set(app, (list = []));
      list.push(r);
    }
    for (const [app, rows] of byApp) out.push({ topic, key: app, value: JSON.stringify({ app_id: app, kind, rows }) });
  }
  return out;
}

/** Publishes without holding up the pipeline; a lost update only delays a live view, never data. */
export function publishUpdates(producer: EventProducer, topic: string, batches: readonly RowBatch[], onError: (err: Error) => void): void {
  const messages = toUpdateMessages(topic, batches);
  if (messages.length) producer.send(messages).catch(onError);
}
