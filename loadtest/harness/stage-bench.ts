// CPU per event of each stage of the processors' batch loop, without Kafka or ClickHouse: the
// replay scenario's messages (normalized demo events, fresh ids) decoded as the runtime does,
// applied in the registry's order to every processor, and their rows encoded as the ClickHouse
// insert encodes them (one JSON line per row). Shows which stage the processors' CPU goes to.
// Usage: tsx loadtest/harness/stage-bench.ts [events=200000] [batch=8000]
import { loadConfig } from '../../core/config.ts';
import type { ViralEvent } from '../../core/events/types.ts';
import { isViralEvent } from '../../core/events/validate.ts';
import { createRegistry } from '../../processors/registry.ts';
import { bodyFactory, demoEvents, normalizedTemplates } from './bodies.ts';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 8000);
const now = Date.now();
const values: Buffer[] = [];
for (let round = 0; values.length < total; round++) {
  const templates = normalizedTemplates(demoEvents({ seed: 7 + round, days: 14, seedUsers: 800 }, now), 'bench', now);
  const body = bodyFactory(templates.map((t) => t.value), `r${round}`);
  for (let i = 0; i < templates.length && values.length < total; i++) values.push(Buffer.from(body()));
}
const registry = createRegistry(loadConfig({}));
const processors = [registry.rawSink, ...registry.createProcessors()];
const ms = new Map<string, number>();
const add = (k: string, t: number) => ms.set(k, (ms.get(k) ?? 0) + performance.now() - t);
const rowsOut = new Map<string, number>();
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
console.log(`${values.length} events in batches of ${batchSize}: ${(wall * 1000 / values.length).toFixed(2)} µs/event wall (${Math.round(values.length / (wall / 1000))} ev/s)`);
for (const [k, v] of [...ms].sort((a, b) => b[1] - a[1])) console.log(`${k.padEnd(28)} ${(v * 1000 / values.length).toFixed(2).padStart(7)} µs/event`);
console.log('rows', Object.fromEntries(rowsOut));
