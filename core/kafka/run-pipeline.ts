// THE consumer loop (conventions §3): decode → raw sink → processors → sinks → commit.
//
// One kafkajs consumer group reads `viral.events.v1`. For each batch:
//   1. decode; poison messages (not JSON, not a normalized event) become dead letters;
//   2. every processor folds the events into its state and returns upsert rows, written first;
//   3. then the raw sink's rows are written to `viral.events` — before the commit, so `viral.events`
//      always holds at least every committed event, and only events whose derived rows landed
//      (the restore below relies on both);
//   4. dead letters are produced (acks = all);
//   5. only then its offsets are committed (by hand, in order). The step is resolved — the fetch
//      moves on — as soon as it is folded, so its writes overlap the next steps' folds (up to
//      two steps' writes in flight).
// A ClickHouse or Kafka outage makes step 2–4 retry with back-off (heart-beating so the group
// keeps the partition) until it works; nothing is committed before. On start, each processor's
// state is rebuilt from `viral.events` before the consumer joins the group (design §4 restart).
import type { Kafka, Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClickHouse } from '../clickhouse/client.ts';
import { isRetriable } from '../clickhouse/client.ts';
import { ident, int, raw, sql, str, type Sql } from '../clickhouse/sql.ts';
import { isViralEvent } from '../events/validate.ts';
import type { ViralEvent } from '../events/types.ts';
import { counter, gauge, histogram } from '../metrics.ts';
import { rowVersion, type Processor, type RowBatch } from '../processor.ts';
import type { EventProducer, OutMessage } from './client.ts';
import { toDeadLetter } from './dead-letter.ts';
import { fromRawRow, RAW_SELECT } from '../clickhouse/raw-events.ts';

export interface PipelineOptions {
  kafka: Kafka;
  ch: ClickHouse;
  producer: EventProducer;
  /** Writes `viral.events`; runs before the others. */
  rawSink: Processor;
  /** Makes fresh derived processors: one set per app (on its first event, and to rebuild it after a privacy erase). */
  createProcessors: () => Processor[];
  /** Tables the derived processors write (erase rebuilds them per app). */
  derivedTables: readonly string[];
  groupId: string;
  topic: string;
  /**
   * Most events folded and written per step (PROCESSOR_MAX_BATCH). Larger steps mean fewer, larger
   * ClickHouse inserts and fewer derived rows per event (a window touched by many events of a
   * step is written once); the fetch size follows, so a replay gets steps of about this size.
   */
  maxBatch: number;
  /**
   * How long the broker may hold a fetch to gather at least 512 KiB (PROCESSOR_FETCH_WAIT_MS;
   * default 100 ms and no minimum). While events trickle in, each fetch would otherwise carry a few
   * and every step write its few rows to every table: many small ClickHouse inserts, whose cost
   * (parts, merges) competes with ingest for the CPU. A backlog fills the minimum at once.
   */
  fetchWaitMs?: number;
  dlqTopic: string;
  log: Logger;
  registry: Registry;
  /** Called after each committed batch with its events and the derived rows written. */
  onCommitted?: (events: readonly ViralEvent[], rows: readonly RowBatch[]) => void;
  now?: () => number;
}

export interface Pipeline {
  /** Events folded during restore. */
  restored: number;
  /**
   * Privacy erase (design §10): deletes the user's raw events, rebuilds the app's processors from
   * the app's remaining events, re-upserts the app's derived rows and deletes the app's older
   * rows — so no derived number includes the user any more. Runs between batches.
   */
  erase(appId: string, userId: string): Promise<void>;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 5000;

export async function runPipeline(o: PipelineOptions): Promise<Pipeline> {
  const now = o.now ?? Date.now;
  const log = o.log;
  const m = {
    events: counter(o.registry, 'viral_processor_events_total', 'Events processed', ['outcome']),
    rows: counter(o.registry, 'viral_processor_rows_total', 'Rows written', ['table']),
    retries: counter(o.registry, 'viral_processor_retries_total', 'Sink retries after a failure', ['stage']),
    batchSeconds: histogram(o.registry, 'viral_processor_batch_seconds', 'Batch processing time', [], [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]),
    freshness: histogram(o.registry, 'viral_processor_freshness_seconds', 'Ingest receive → committed to ClickHouse', [], [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]),
    lag: gauge(o.registry, 'viral_consumer_lag', 'Messages behind the log end', ['partition']),
    deadLetters: counter(o.registry, 'viral_dead_letters_total', 'Dead letters written', ['source']),
  };

  // Restore before joining the group: nothing new is committed until the state is complete.
  const apps = new AppProcessors(o.createProcessors);
  const restored = (await restoreState(o.ch, apps, log, now)).events;
  // Batches and erasures never interleave (both await ClickHouse in the middle).
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const maxBatch = o.maxBatch;
  // ~500 bytes per normalized event: fetch about two steps' worth per partition.
  const fetchBytes = Math.min(64, Math.max(1, Math.ceil(maxBatch / 1000))) * 1024 * 1024;
  const consumer: Consumer = o.kafka.consumer({
    groupId: o.groupId,
    // A crashed instance's partitions move after this long (the sink heart-beats while retrying).
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxBytesPerPartition: fetchBytes,
    maxBytes: 2 * fetchBytes,
    ...(o.fetchWaitMs !== undefined ? { minBytes: 512 * 1024, maxWaitTimeInMs: o.fetchWaitMs } : { maxWaitTimeInMs: 100 }),
    retry: { retries: 1000, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });

  async function withRetry(stage: string, payload: EachBatchPayload, fn: () => Promise<void>): Promise<void> {
    let delay = 100;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetriable(err)) throw err;
        if (!payload.isRunning() || payload.isStale()) throw new Error(`consumer stopped while retrying ${stage}`);
        m.retries.inc({ stage });
        log.warn({ err: (err as Error).message, stage, delay }, 'sink failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        await payload.heartbeat().catch(() => undefined);
      }
    }
  }

  // Writes of a step overlap the decode and folds of the next ones (the processors' CPU and
  // ClickHouse's run side by side instead of in turn); the writes of at most WRITES_IN_FLIGHT steps
  // are in flight while the next is folded. Offsets are committed by hand, in order, only once a
  // step's writes landed — never by kafkajs (autoCommit off: it would commit resolved offsets on
  // errors and rebalances, and a step is resolved, so that the fetch moves on, before its writes
  // are done). Steps' writes may land out of order (derived rows carry increasing versions, and
  // each step still writes its derived rows before its raw rows); their commits cannot.
  /** Commits of the steps resolved whose writes may still be in flight, oldest first. */
  let unfinished: Promise<void>[] = [];
  /** The last step's commit (settled once `unfinished` is empty): each step's commit is chained on it. */
  const lastCommit = (): Promise<void> => unfinished[unfinished.length - 1] ?? Promise.resolve();
  let stopping = false;
  /** First offset of the earliest step whose writes or commit failed: fetched again from there. */
  let rewind: { topic: string; partition: number; offset: string } | undefined;

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: (payload) => {
      // While an erase holds the lock (its rebuild reads every raw event), the fetched batch
      // waits; heart-beating meanwhile keeps this member in the group instead of being evicted
      // after sessionTimeout and rebalancing the partitions.
      const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000);
      return exclusive(() => {
        clearInterval(beat);
        return processBatch(payload);
      }).finally(() => clearInterval(beat));
    },
  });

  async function processBatch(payload: EachBatchPayload): Promise<void> {
    const { messages } = payload.batch;
    for (let i = 0; i < messages.length; i += maxBatch) {
      // Nothing resolved: the rest is fetched again (by this instance or the partition's next owner).
      if (stopping || !payload.isRunning() || payload.isStale()) return;
      await processStep(payload, messages.length <= maxBatch ? messages : messages.slice(i, i + maxBatch));
    }
  }

  /**
   * One step: decode and fold; start writing its raw and derived rows and dead letters; wait until
   * at most WRITES_IN_FLIGHT steps, this one included, are not committed; resolve this step (the
   * fetch moves on). Its own commit follows its writes, after the previous commit.
   */
  async function processStep(payload: EachBatchPayload, messages: EachBatchPayload['batch']['messages']): Promise<void> {
    const { batch } = payload;
    if (messages.length === 0) return;
    const stop = m.batchSeconds.startTimer();
    const events: ViralEvent[] = [];
    const deadLetters: OutMessage[] = [];
    for (const msg of messages) {
      const text = msg.value?.toString('utf8') ?? '';
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (isViralEvent(value)) events.push(value);
      else {
        deadLetters.push(
          toDeadLetter(o.dlqTopic, { source: 'processor:decode', app_id: null, errors: ['not a normalized viral event'], raw: text, received_at: now(), partition: batch.partition, offset: msg.offset }),
        );
      }
    }
    const t = now();
    const derived = mergeBatches(apps.apply(events, (p, appEvents) => applySafely(p, appEvents, t, deadLetters, batch.partition, log, o.dlqTopic)));
    // Derived rows first, then the raw rows, then the commit. A restart restores the state from
    // viral.events and does not write the restored rows again, so an event may only be in
    // viral.events once its derived rows landed: otherwise a crash between the two inserts would
    // leave the derived tables without its effect (the redelivered event then changes nothing).
    // Both land before the commit, which is all the restore needs (viral.events ⊇ committed).
    const rawRows = o.rawSink.apply(events, t);
    const written = withRetry('derived', payload, () => writeBatches(o.ch, derived, m.rows)).then(async () => {
      await withRetry('raw', payload, () => writeBatches(o.ch, rawRows, m.rows));
      if (deadLetters.length) {
        await withRetry('dead-letter', payload, () => o.producer.send(deadLetters));
        m.deadLetters.inc({ source: 'processor' }, deadLetters.length);
      }
    });
    written.catch(() => undefined); // awaited through the step's commit
    const last = messages[messages.length - 1];
    const previous = lastCommit();
    const first = messages[0].offset;
    const committed = previous.then(async () => {
      try {
        await written;
        await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }] }] });
      } catch (err) {
        rewind ??= { topic: batch.topic, partition: batch.partition, offset: first };
        throw err;
      }
      m.events.inc({ outcome: 'ok' }, events.length);
      m.events.inc({ outcome: 'dead_letter' }, messages.length - events.length);
      const done = now();
      for (const e of events) m.freshness.observe((done - e.received_at) / 1000);
      m.lag.set({ partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
      stop();
      o.onCommitted?.(events, derived);
    });
    committed.catch(() => undefined);
    // A failed write or commit of an earlier step surfaces here. That step was already resolved
    // (the fetch had moved past it), so the fetch is rewound to its first offset — with autoCommit
    // off a seek only moves the fetch — and the error makes kafkajs retry the fetch from there; the
    // folds tolerate seeing those events again. The chain starts over (the later steps' commits,
    // chained on the failure, are dropped with it; their events come again after the rewind).
    unfinished.push(committed);
    while (unfinished.length > WRITES_IN_FLIGHT) await settled(unfinished.shift()!);
    payload.resolveOffset(last.offset);
    await payload.heartbeat();
    // While stopping, or when the next fetch would wait anyway (caught up), finish the steps now.
    if (stopping || Number(batch.highWatermark) - Number(last.offset) <= 1) {
      await settled(committed);
      unfinished = [];
    }
  }

  async function settled(step: Promise<void>): Promise<void> {
    try {
      await step;
    } catch (err) {
      unfinished = [];
      if (rewind) consumer.seek(rewind);
      rewind = undefined;
      throw err;
    }
  }

  return {
    restored,
    erase: (appId, userId) =>
      exclusive(async () => {
        // No write of an earlier step may land after the delete (a failed one is redelivered later).
        await lastCommit().catch(() => undefined);
        const started = now();
        await mutate(o.ch, sql`ALTER TABLE viral.events DELETE WHERE app_id = ${str(appId)} AND user_id = ${str(userId)}`, 'events');
        // Others' sign-ups that named the user as their referrer keep their events without the
        // name (the user becomes unknown to the graph: such a sign-up is a root, or waits on its
        // invitation), so no rebuilt or later row names the erased user.
        await mutate(o.ch, sql`ALTER TABLE viral.events UPDATE referrer_id = '' WHERE app_id = ${str(appId)} AND referrer_id = ${str(userId)}`, 'events');
        // Only this app's state is rebuilt, from its own events (apps share no state).
        const fresh = new AppProcessors(o.createProcessors);
        const firstVersion = rowVersion(now());
        const { rows } = await restoreState(o.ch, fresh, log, now, appId);
        apps.replace(appId, fresh.of(appId));
        // Rows keyed by the user (their node, their credited referrals) are not written back, so
        // no table keeps a row about them.
        const aboutOthers = rows.map((b) => ({ table: b.table, rows: b.rows.filter((r) => r.user_id !== userId && r.referrer_id !== userId) }));
        await writeBatches(o.ch, aboutOthers, m.rows);
        for (const table of o.derivedTables) {
          await mutate(o.ch, sql`ALTER TABLE viral.${ident(table)} DELETE WHERE app_id = ${str(appId)} AND version < ${int(firstVersion)}`, table);
        }
        log.info({ ms: now() - started }, 'user erased and app rebuilt');
      }),
    async stop() {
      // The last steps' writes land and are committed while the group is still joined.
      stopping = true;
      await exclusive(lastCommit).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'last writes not committed; they will be processed again'));
      await consumer.disconnect();
    },
  };
}

/**
 * Runs a processor over a batch; if it throws (a poison event the processor cannot fold), the
 * batch is retried event by event and the failing events become dead letters with the error.
 */
function applySafely(p: Processor, events: ViralEvent[], t: number, dlq: OutMessage[], partition: number, log: Logger, dlqTopic: string): RowBatch[] {
  try {
    return p.apply(events, t);
  } catch (err) {
    log.error({ err: (err as Error).message, processor: p.name }, 'processor failed on a batch; isolating the poison event');
    const out: RowBatch[] = [];
    for (const e of events) {
      try {
        out.push(...p.apply([e], t));
      } catch (e2) {
        dlq.push(toDeadLetter(dlqTopic, { source: `processor:${p.name}`, app_id: e.app_id, errors: [(e2 as Error).message], raw: e, received_at: t, partition }));
      }
    }
    return out;
  }
}

/** Concatenates row batches of the same table so each table gets one insert per Kafka batch. */
export function mergeBatches(batches: RowBatch[]): RowBatch[] {
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const b of batches) {
    if (!b.rows.length) continue;
    const rows = byTable.get(b.table);
    if (rows) for (const r of b.rows) rows.push(r);
    else byTable.set(b.table, [...b.rows]);
  }
  return [...byTable].map(([table, rows]) => ({ table, rows }));
}

/**
 * Steps resolved (the fetch moved past them) whose writes may still be in flight. 1 left the
 * replay waiting for the previous step's inserts ~28 % of its time; 2 measured, full 1M-event
 * replays of the load test alternated: 28.4–28.6k → 31.2–31.5k events/s, 38.5–39.3 → 35.6–36.5 µs
 * CPU per event; 3 and 4 were no faster (30.4–30.6k), ClickHouse's inserts then being the limit.
 */
const WRITES_IN_FLIGHT = 2;

const INSERT_CHUNK = 50_000;
async function writeBatches(ch: ClickHouse, batches: RowBatch[], rowsMetric: { inc: (l: { table: string }, n: number) => void }): Promise<void> {
  await Promise.all(
    batches.map(async (b) => {
      for (let i = 0; i < b.rows.length; i += INSERT_CHUNK) {
        await ch.insert(`viral.${b.table}`, b.rows.slice(i, i + INSERT_CHUNK));
      }
      rowsMetric.inc({ table: b.table }, b.rows.length);
    }),
  );
}

/**
 * The derived processors, one set per app (made by `create` on the app's first event). Apps share
 * no state — every processor keeps its state per app — so one app's set can be rebuilt alone
 * (privacy erase) without reading or stopping the others'.
 */
export class AppProcessors {
  private readonly sets = new Map<string, Processor[]>();
  constructor(private readonly create: () => Processor[]) {}

  /** The app's processors, made on first use. */
  of(appId: string): Processor[] {
    let set = this.sets.get(appId);
    if (!set) this.sets.set(appId, (set = this.create()));
    return set;
  }

  replace(appId: string, set: Processor[]): void {
    this.sets.set(appId, set);
  }

  /**
   * Runs every processor of each app over that app's events of `events` (in their order, the
   * processors in registry order) through `run`, and returns all their row batches.
   */
  apply(events: readonly ViralEvent[], run: (p: Processor, appEvents: ViralEvent[]) => RowBatch[]): RowBatch[] {
    const out: RowBatch[] = [];
    for (const [appId, appEvents] of byApp(events)) for (const p of this.of(appId)) for (const b of run(p, appEvents)) out.push(b);
    return out;
  }
}

function byApp(events: readonly ViralEvent[]): Map<string, ViralEvent[]> {
  const groups = new Map<string, ViralEvent[]>();
  if (events.length === 0) return groups;
  const first = events[0].app_id;
  if (events.every((e) => e.app_id === first)) return groups.set(first, events as ViralEvent[]); // the usual step
  for (const e of events) {
    const list = groups.get(e.app_id);
    if (list) list.push(e);
    else groups.set(e.app_id, [e]);
  }
  return groups;
}

/**
 * Feeds the events of `viral.events` to the processors of their apps — every app's, or with
 * `onlyApp` that app's alone, whose rows are then returned (erase rebuild); otherwise the rows are
 * discarded (already written).
 */
export async function restoreState(
  ch: ClickHouse,
  apps: AppProcessors,
  log: Logger,
  now: () => number,
  onlyApp?: string,
): Promise<{ events: number; rows: RowBatch[] }> {
  const collected: RowBatch[] = [];
  const started = now();
  let n = 0;
  let chunk: ViralEvent[] = [];
  const flush = () => {
    const t = now();
    const out = apps.apply(chunk, (p, appEvents) => p.apply(appEvents, t));
    if (onlyApp !== undefined) for (const b of out) collected.push(b);
    n += chunk.length;
    chunk = [];
  };
  const where = onlyApp === undefined ? raw('') : sql`WHERE app_id = ${str(onlyApp)}`;
  await ch.stream(sql`SELECT ${raw(RAW_SELECT)} FROM viral.events ${where}`, (rows) => {
    for (const r of rows) chunk.push(fromRawRow(r));
    if (chunk.length >= 20_000) flush();
  });
  flush();
  log.info({ events: n, app_id: onlyApp, ms: now() - started }, 'processor state restored from viral.events');
  return { events: n, rows: mergeBatches(collected) };
}

/** Runs an ALTER … DELETE and waits until the table has no unfinished mutation (18.16: no mutations_sync). */
async function mutate(ch: ClickHouse, statement: Sql, table: string): Promise<void> {
  await ch.command(statement, { maxExecutionTime: 300 });
  for (let i = 0; i < 3000; i++) {
    const [r] = await ch.query<{ n: string }>(sql`SELECT count() AS n FROM system.mutations WHERE database = 'viral' AND table = ${str(table)} AND is_done = 0`);
    if (Number(r.n) === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`mutation on viral.${table} did not finish`);
}
