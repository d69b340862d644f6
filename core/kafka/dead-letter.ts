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
  let value = stringifyBounded(d);
  if (value.length > DLQ_RAW_LIMIT) {
    const rawText = typeof d.raw === 'string' ? d.raw : JSON.stringify(d.raw) ?? String(d.raw);
    value = JSON.stringify({ ...d, raw: rawText.slice(0, DLQ_RAW_LIMIT), truncated: true });
  }
  return { topic, key: d.app_id, value };
}

/** Deepest nesting kept in a dead letter; deeper parts become "[nested too deep]". */
const MAX_DEPTH = 64;

/** JSON.stringify that cannot overflow the stack on hostile nesting (it caps the depth instead). */
export function stringifyBounded(value: unknown): string {
  const cap = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return '[nested too deep]';
    if (Array.isArray(v)) return v.map((x) => cap(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cap(x, depth + 1);
    return out;
  };
  return JSON.stringify(cap(value, 0)) ?? 'null';
}
