// CPU per event of each stage of the processors' batch loop, without Kafka or ClickHouse: the
// replay scenario's messages (normalized demo events, fresh ids) decoded as the runtime does,
// applied in the registry's order to every processor, and their rows encoded as the ClickHouse
// insert encodes them (one JSON line per row). Shows which stage the processors' CPU goes to; the
// processors scenario runs it beside the replay (--json) to show the floor of the replay's rate.
// Run with --expose-gc it also weighs the processors' state: the heap after a full GC once every
// event is folded, less the heap before the first fold, per event.
// Usage: tsx loadtest/harness/stage-bench.ts [events=200000] [batch=8000] [--json]
import { loadConfig } from '../../core/config.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { isViralEvent } from '../../core/events/validate.ts';
import { createRegistry } from '../../processors/registry.ts';
import { bodyFactory, demoEvents, normalizedTemplates } from './bodies.ts';

export interface StageResult {
  events: number;
  batchSize: number;
  /** µs of CPU per event: decode (JSON.parse + check), raw (viral.events rows: map + encode), folds (derived processors), rows (derived rows' encoding). */
  stages: { decode: number; raw: number; folds: number; rows: number };
  /** µs per event of each processor's apply and of its rows' encoding. */
  byStep: Record<string, number>;
  rows: Record<string, number>;
  /** Heap the folded state holds per event, bytes (null without --expose-gc). */
  stateBytesPerEvent: number | null;
}

const args = process.argv.slice(2).filter((a) => a !== '--json');
const total = Number(args[0] ?? 200_000);
const batchSize = Number(args[1] ?? 8000);
const now = Date.now();
const values: Buffer[] = [];
for (let round = 0; values.length < total; round++) {
  const templates = normalizedTemplates(demoEvents({ seed: 7 + round, days: 14, seedUsers: 800 }, now), 'bench', now);
  const body = bodyFactory(templates.map((t) => t.value), `r${round}`);
  for (let i = 0; i < templates.length && values.length < total; i++) values.push(Buffer.from(body()));
}
const registry = createRegistry(loadConfig({}));
const rawSink = registry.rawSink;
const processors = [rawSink, ...registry.createProcessors()];
const ms = new Map<string, number>();
const add = (k: string, t: number) => ms.set(k, (ms.get(k) ?? 0) + performance.now() - t);
const rowsOut = new Map<string, number>();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const started = performance.now();
for (let i = 0; i < values.length; i += batchSize) {
  let t = performance.now();
  const events: ViralEvent[] = [];
  for (const v of values.slice(i, i + batchSize)) {
    const e: unknown = JSON.parse(v.toString('utf8'));
    if (isViralEvent(e)) events.push(e);
  }
  add('decode', t);
  for (const p of processors) {
    t = performance.now();
    const out = p.apply(events, Date.now());
    add(p.name, t);
    t = performance.now();
    for (const b of out) {
      let bytes = 0;
      for (const r of b.rows) bytes += JSON.stringify(r).length + 1;
      rowsOut.set(b.table, (rowsOut.get(b.table) ?? 0) + b.rows.length);
      void bytes;
    }
    add(`encode ${p.name}`, t);
  }
}
const wall = performance.now() - started;
gc?.();
const stateBytes = process.memoryUsage().heapUsed - heapBefore;
const us = (v: number) => Math.round(((v * 1000) / values.length) * 100) / 100;
const byStep = Object.fromEntries([...ms].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, us(v)]));
const sum = (keys: string[]) => Math.round(keys.reduce((a, k) => a + (byStep[k] ?? 0), 0) * 100) / 100;
const derived = processors.slice(1).map((p) => p.name);
const result: StageResult = {
  events: values.length,
  batchSize,
  stages: {
    decode: sum(['decode']),
    raw: sum([rawSink.name, `encode ${rawSink.name}`]),
    folds: sum(derived),
    rows: sum(derived.map((n) => `encode ${n}`)),
  },
  byStep,
  rows: Object.fromEntries(rowsOut),
  stateBytesPerEvent: gc ? Math.round(stateBytes / values.length) : null,
};
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(result) + '\n');
else {
  console.log(`${values.length} events in batches of ${batchSize}: ${(wall * 1000 / values.length).toFixed(2)} µs/event wall (${Math.round(values.length / (wall / 1000))} ev/s)`);
  for (const [k, v] of Object.entries(byStep)) console.log(`${k.padEnd(28)} ${v.toFixed(2).padStart(7)} µs/event`);
  console.log('stages', result.stages);
  console.log('rows', result.rows);
  console.log('state', result.stateBytesPerEvent === null ? '(run with --expose-gc)' : `${result.stateBytesPerEvent} bytes of heap per event`);
}
