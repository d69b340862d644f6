// Dead letters (design §3): what was sent, why it was rejected, and by whom. Pure.
import type { OutMessage } from './client.ts';

/** Raw payloads larger than this are truncated in the dead letter (the reasons are kept whole). */
export const DLQ_RAW_LIMIT = 64 * 1024;

export interface DeadLetter {
  source: string; // 'ingest' or 'processor:<name>'
  app_id: string | null;
  errors: string[];
  raw: unknown;
  received_at: number;
  index?: number;
  partition?: number;
  offset?: string;
}

export function toDeadLetter(topic: string, d: DeadLetter): OutMessage {
  let value = JSON.stringify(d);
  if (value.length > DLQ_RAW_LIMIT) {
    const rawText = typeof d.raw === 'string' ? d.raw : JSON.stringify(d.raw) ?? String(d.raw);
    value = JSON.stringify({ ...d, raw: rawText.slice(0, DLQ_RAW_LIMIT), truncated: true });
  }
  return { topic, key: d.app_id, value };
}
