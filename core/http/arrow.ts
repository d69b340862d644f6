// Tabular answers as Arrow IPC streams (design §7) when the client asks for
// `Accept: application/vnd.apache.arrow.stream`; ClickHouse 18.16 has no Arrow output, so the
// table is built in Node with apache-arrow.
import { Table, tableToIPC, Float64, Utf8, Int64, vectorFromArray, type Vector } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';
export type ColumnType = 'string' | 'float' | 'int';

export function wantsArrow(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes(ARROW_STREAM);
}

/** Encodes rows as an Arrow IPC stream with the given column types (also for zero rows). */
export function toArrow(rows: readonly Record<string, unknown>[], columns: Record<string, ColumnType>): Uint8Array {
  const arrays: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(columns)) {
    const values = rows.map((r) => r[name]);
    if (type === 'string') arrays[name] = vectorFromArray(values.map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v))), new Utf8());
    else if (type === 'int') arrays[name] = vectorFromArray(values.map((v) => (v === null || v === undefined ? null : BigInt(Math.trunc(Number(v))))), new Int64());
    else arrays[name] = vectorFromArray(values.map((v) => (v === null || v === undefined ? null : Number(v))), new Float64());
  }
  return tableToIPC(new Table(arrays), 'stream');
}

/** Sends JSON, or the rows as Arrow when asked for. */
export function sendTabular(req: FastifyRequest, reply: FastifyReply, json: unknown, rows: readonly Record<string, unknown>[], columns: Record<string, ColumnType>) {
  if (wantsArrow(req)) return reply.header('content-type', ARROW_STREAM).send(Buffer.from(toArrow(rows, columns)));
  return reply.send(json);
}
