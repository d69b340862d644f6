// The five measurements of issue 7 §1, each beside its physical reference from the same run.
// Every scenario pushes Figures (report.ts); a figure whose route does not exist yet is kept in
// the table as skipped with the reason, so the harness measures whatever is registered today.
import { loadavg } from 'node:os';
import type { Admin } from 'kafkajs';
import type { ClickHouse } from '../../core/clickhouse/client.ts';
import { sql, str } from '../../core/clickhouse/sql.ts';
import { loadConfig } from '../../core/config.ts';
import { postBatches } from './demo-feed.ts';
import { demoEvents } from './bodies.ts';
import { chainsScenario, graphScenario, replayTopic, windowProcessorsScenario } from './graph-scenarios.ts';
import { runCannon, type CannonSpec, type LoadResult } from './cannon.ts';
import { groupProgress, waitCaughtUp, waitGroupStable } from './offsets.ts';
import { atLeast, atMost, fmtInt, fmtMs, type Figure } from './report.ts';
import { busyShare, cpuMeter, freePort, logPath, machineTicks, runNode, startService, type Service, type rssSampler } from './services.ts';
import type { Profile, Targets } from './settings.ts';
import { latency } from './stats.ts';
import { PROCESSORS_NODE_FLAGS } from '../../processors/node-flags.ts';
import { INGEST_NODE_FLAGS } from '../../ingest/node-flags.ts';
import type { StageResult } from './stage-bench.ts';
import { get as httpGet } from 'node:http';

export interface Tenant {
  appId: string;
  ingestKey: string;
  readKey: string;
  adminKey: string;
}

export interface Ctx {
  runId: string;
  profile: Profile;
  targets: Targets;
  brokers: string[];
  ch: ClickHouse;
  admin: Admin;
  /** main: load and api reads; fresh: only the freshness probes; bg: background load. */
  tenants: { main: Tenant; fresh: Tenant; bg: Tenant };
  topics: { events: string; dlq: string; replay: string };
  groups: { live: string; replay: string };
  /** Env every service child gets (keys, topics, brokers, limits). */
  env: Record<string, string>;
  nodeFlags: string[];
  logsDir: string;
  services: { ingest: Service; processors: Service; api: Service; bare: Service };
  /** The broker and ClickHouse server processes, when found (their CPU per event). */
  pids: { kafka?: number; clickhouse?: number };
  rss: ReturnType<typeof rssSampler>;
  /** The demo generator's `now` for this run. */
  now: number;
  figures: Figure[];
  notes: string[];
  progress: (line: string) => void;
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
/** How busy the whole machine was during a measured run (busyShare), as a note to its figure. */
const busyNote = (share: number | undefined) => (share === undefined ? '' : `; machine ${Math.round(share * 100)}% busy (all cores)`);

function latencyText(r: LoadResult, pcts: ('p50' | 'p95' | 'p99')[] = ['p50', 'p95', 'p99']): string {
  return `${pcts.map((p) => `${p} ${fmtMs(r.latency[p])}`).join(' / ')} ms`;
}
function problems(r: LoadResult): string {
  const bad = r.non2xx + r.errors;
  return bad ? ` · ${fmtInt(bad)} failed (${Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`).join(' ') || `${r.errors} socket errors`})` : '';
}

/** A service started on a fresh port with the run's env plus `extra`. */
export async function startChild(ctx: Pick<Ctx, 'env' | 'nodeFlags' | 'logsDir'>, name: string, script: string, portVar: string, extra: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  // Ingest and the processors run with their production flags (<service>/node-flags.ts), as npm start and docker-compose start them.
  const serviceFlags = script === 'processors/main.ts' ? PROCESSORS_NODE_FLAGS : script === 'ingest/main.ts' ? INGEST_NODE_FLAGS : [];
  const nodeFlags = [...ctx.nodeFlags, ...serviceFlags];
  return await startService(name, script, port, { env: { ...ctx.env, ...extra, [portVar]: String(port) }, nodeFlags, logFile: logPath(ctx.logsDir, name) });
}

/** Waits (up to 30 min) until the live processors committed everything in the run's events topic; returns the wait in ms. */
function liveCaughtUp(ctx: Ctx): Promise<number> {
  return waitCaughtUp(ctx.admin, ctx.groups.live, ctx.topics.events, 30 * 60_000, (g) => ctx.progress(`live processors: ${fmtInt(g.end - g.committed)} behind`));
}

/** CPU µs per event of each process, and the events one core would carry at that cost. */
export function cpuFigure(id: string, label: string, events: number, cpu: Record<string, number>, main: string): Figure {
  const us = (k: string) => (cpu[k] !== undefined && events > 0 ? (cpu[k] * 1e6) / events : undefined);
  const m = us(main);
  const others = Object.keys(cpu).filter((k) => k !== main && us(k) !== undefined);
  return {
    id,
    label,
    value: m === undefined ? 'not measured' : `${fmtMs(m)} µs CPU/event → ${fmtInt(1e6 / m)} ev/s per core`,
    reference: others.map((k) => `${k} ${fmtMs(us(k)!)} µs/event`).join(', '),
    data: { events, cpuSeconds: cpu, microsecondsPerEvent: Object.fromEntries(Object.keys(cpu).map((k) => [k, us(k)])) },
  };
}

// ── ingest ────────────────────────────────────────────────────────────────────────────────────

/**
 * Ingest events/s and latency, single-event and 100-event batches, with ingest's default linger
 * and with PRODUCE_LINGER_MS=0, beside (a) the raw kafkajs producer sending the same 100-event
 * batches (acks = -1, as many in flight as the batch run has connections) into the same topic the
 * live processors consume, and (b) the bare Fastify POST of the same bodies (HTTP ceiling).
 */
export async function ingestScenario(ctx: Ctx): Promise<void> {
  const p = ctx.profile;
  const batchSize = p.templates.batchSize;
  type RawResult = { events: number; eventsPerSecond: number; cpuSeconds: number; batchLatency: ReturnType<typeof latency>; machineBusy?: number };
  // Run right before each ingest batch run it is compared with: the machine's load drifts during
  // the scenario (the live processors fall behind on what ingest wrote, ClickHouse merges), so a
  // reference measured once at the start would flatter or penalize the later runs.
  const rawRuns: RawResult[] = [];
  // Every measured run starts with the live processors caught up, so each run shares the machine
  // with the processing of its own events only, not with a backlog left by the run before it
  // (the raw producer's ~200,000 events before each ingest batch run; the single-event run's
  // ~20,000 before each raw run).
  const settleWaits: number[] = [];
  const settle = async () => {
    settleWaits.push(await liveCaughtUp(ctx));
  };
  const rawProducer = async (): Promise<RawResult> => {
    await settle();
    ctx.progress(`raw kafkajs producer: ${batchSize}-event batches, ${p.ingest.batchConnections} in flight, ${p.rawProducer.durationSeconds} s (load ${load()})`);
    const r = JSON.parse(
      await runNode(
        'loadtest/harness/kafka-worker.ts',
        [
          JSON.stringify({
            mode: 'produce',
            brokers: ctx.brokers,
            topic: ctx.topics.events,
            appId: ctx.tenants.bg.appId,
            templates: p.templates,
            now: ctx.now,
            batchSize,
            inFlight: p.ingest.batchConnections,
            durationSeconds: p.rawProducer.durationSeconds,
            tag: `${ctx.runId}.raw${rawRuns.length}`,
          }),
        ],
        { onStderr: ctx.progress },
      ),
    ) as RawResult;
    rawRuns.push(r);
    return r;
  };
  const rawRef = (raw: RawResult) => `raw kafkajs ×${batchSize} (run just before): ${fmtInt(raw.eventsPerSecond)} ev/s · p50 ${fmtMs(raw.batchLatency.p50)} / p99 ${fmtMs(raw.batchLatency.p99)} ms${busyNote(raw.machineBusy)}`;

  const base = (url: string, label: string, kind: 'single' | 'batch', connections: number, path: string): CannonSpec => ({
    label,
    url,
    method: 'POST',
    paths: [path],
    headers: auth(ctx.tenants.main.ingestKey),
    connections,
    durationSeconds: p.ingest.durationSeconds,
    warmupSeconds: p.ingest.warmupSeconds,
    body: { kind, templates: p.templates, batchSize, tag: `${ctx.runId}.${label.replace(/[^A-Za-z0-9]/g, '')}` },
    now: ctx.now,
  });

  const bare: Record<'single' | 'batch', LoadResult> = {} as never;
  for (const kind of ['single', 'batch'] as const) {
    const label = `bare Fastify POST ${kind}`;
    ctx.progress(`${label}: ${kind === 'single' ? p.ingest.singleConnections : p.ingest.batchConnections} connections, ${p.ingest.durationSeconds} s`);
    bare[kind] = await runCannon(base(ctx.services.bare.url, label, kind, kind === 'single' ? p.ingest.singleConnections : p.ingest.batchConnections, '/bare/events'), 1, ctx.progress);
  }

  const defaultLinger = loadConfig({}).produceLingerMs;
  for (const linger of [defaultLinger, 0]) {
    const isDefault = linger === defaultLinger;
    const svc = isDefault ? ctx.services.ingest : await startChild(ctx, 'ingest-linger0', 'ingest/main.ts', 'INGEST_PORT', { PRODUCE_LINGER_MS: '0' });
    if (!isDefault) ctx.rss.track('ingest (linger 0)', svc.child.pid);
    const tag = isDefault ? `linger ${linger} ms (default)` : 'linger 0';
    for (const kind of ['single', 'batch'] as const) {
      const connections = kind === 'single' ? p.ingest.singleConnections : p.ingest.batchConnections;
      const label = `ingest ${kind === 'single' ? 'single event' : `batch ×${batchSize}`}, ${tag}`;
      const raw = kind === 'batch' ? await rawProducer() : undefined;
      await settle();
      ctx.progress(`${label}: ${connections} keep-alive connections, ${p.ingest.durationSeconds} s (load ${load()})`);
      const meter = cpuMeter({ ingest: svc.child.pid, 'Kafka broker': ctx.pids.kafka });
      let measuredMs = 0;
      let ticks: ReturnType<typeof machineTicks>;
      let machineBusy: number | undefined;
      const r = await runCannon(base(svc.url, label, kind, connections, kind === 'single' ? '/v1/events' : '/v1/events/batch'), 1, ctx.progress, undefined, (phase) => {
        if (phase === 'start') {
          meter.start();
          ticks = machineTicks();
          measuredMs = Date.now();
        } else {
          measuredMs = Date.now() - measuredMs;
          machineBusy = busyShare(ticks, machineTicks());
        }
      });
      const cpu = meter.stop();
      const evs = r.okPerSecond * (kind === 'batch' ? batchSize : 1);
      ctx.figures.push(cpuFigure(`cpu.ingest.${kind}.${isDefault ? 'linger-default' : 'linger-0'}`, `CPU: ${label}`, Math.round((evs * measuredMs) / 1000), cpu, 'ingest'));
      const b = bare[kind];
      ctx.figures.push({
        id: `ingest.${kind}.${isDefault ? 'linger-default' : 'linger-0'}`,
        label,
        value: `${fmtInt(evs)} ev/s · ${latencyText(r)}${problems(r)}${busyNote(machineBusy)}`,
        reference:
          kind === 'batch'
            ? `${rawRef(raw!)}; bare Fastify ${fmtInt(b.okPerSecond * batchSize)} ev/s`
            : `bare Fastify ${fmtInt(b.okPerSecond)} req/s · p99 ${fmtMs(b.latency.p99)} ms`,
        ...(kind === 'batch' ? atLeast(evs, raw!.eventsPerSecond, ctx.targets.ingestVsRawProducer) : { ratio: Math.round((r.okPerSecond / b.okPerSecond) * 100) / 100 }),
        data: { eventsPerSecond: evs, linger, machineBusy, result: { ...r }, rawProducer: raw, bare: { okPerSecond: b.okPerSecond, latency: b.latency } },
      });
    }
    if (!isDefault) {
      ctx.rss.untrack('ingest (linger 0)');
      await svc.stop();
    }
  }
  ctx.notes.push(`ingest: before each measured run (raw producer and ingest alike) the live processors caught up with the events of the previous runs: waits ${settleWaits.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
  const rawEvents = rawRuns.reduce((n, r) => n + r.events, 0);
  const rawCpu = rawRuns.reduce((n, r) => n + r.cpuSeconds, 0);
  ctx.figures.push(cpuFigure('cpu.raw-producer', `CPU: raw kafkajs producer ×${batchSize} (${rawRuns.length} runs)`, rawEvents, { producer: rawCpu }, 'producer'));
}

// ── processors ────────────────────────────────────────────────────────────────────────────────

/**
 * Replays a pre-filled topic of normalized demo events through all registered processors (a fresh
 * processors child in a fresh group), timed from the group becoming Stable until its committed
 * offsets reach the end; beside a kafkajs consumer that only counts the same topic's messages,
 * timed from its group join to the last message.
 */
export async function processorsScenario(ctx: Ctx): Promise<void> {
  ctx.progress('waiting for the live processors to catch up with the earlier scenarios');
  const catchUp = await liveCaughtUp(ctx);
  ctx.notes.push(`processors: the replay began once the live processors had caught up with the earlier scenarios' events (a wait of ${(catchUp / 1000).toFixed(1)} s)`);

  const { fill, consume } = await replayTopic(ctx);
  ctx.figures.push(cpuFigure('cpu.raw-consume', 'CPU: raw kafkajs consume', consume.events, { consumer: consume.cpuSeconds }, 'consumer'));

  ctx.progress(`processors replay of ${fmtInt(fill.events)} events (load ${load()})`);
  const spawned = Date.now();
  const started = startChild(ctx, 'processors-replay', 'processors/main.ts', 'PROCESSORS_METRICS_PORT', { EVENTS_TOPIC: ctx.topics.replay, PROCESSORS_GROUP: ctx.groups.replay });
  let svc: Service | undefined;
  void started.then((s) => {
    svc = s;
    ctx.rss.track('processors (replay)', s.child.pid);
  });
  const stableAt = await waitGroupStable(ctx.admin, ctx.groups.replay, 10 * 60_000, () => svc === undefined || svc.child.exitCode === null);
  await started;
  const meter = cpuMeter({ processors: svc!.child.pid, ClickHouse: ctx.pids.clickhouse, 'Kafka broker': ctx.pids.kafka });
  meter.start();
  await waitCaughtUp(ctx.admin, ctx.groups.replay, ctx.topics.replay, 60 * 60_000, (g) => ctx.progress(`processors replay: ${fmtInt(g.committed)}/${fmtInt(g.end)} committed`));
  const seconds = (Date.now() - stableAt) / 1000;
  const eps = fill.events / seconds;
  const cpu = meter.stop();
  const final = await groupProgress(ctx.admin, ctx.groups.replay, ctx.topics.replay);
  const tables = await tablesWritten(svc!);
  ctx.rss.untrack('processors (replay)');
  await svc!.stop();
  ctx.figures.push({
    id: 'processors.replay',
    label: `processors replay, ${fmtInt(fill.events)} events`,
    value: `${fmtInt(eps)} ev/s (${seconds.toFixed(1)} s)`,
    reference: `raw kafkajs consume: ${fmtInt(consume.eventsPerSecond)} ev/s (${consume.seconds.toFixed(1)} s)`,
    ...atLeast(eps, consume.eventsPerSecond, ctx.targets.processorsVsRawConsume),
    data: { events: fill.events, seconds, eventsPerSecond: eps, tables, startupMs: stableAt - spawned, committed: final.committed, fill, rawConsume: consume },
  });
  ctx.figures.push(cpuFigure('cpu.processors', 'CPU: processors replay', fill.events, cpu, 'processors'));

  // What the replay's rate is made of: the same kind of events through decode, the raw sink and
  // every processor in one process, without Kafka or ClickHouse (stage-bench.ts), beside the raw
  // consume's own CPU — the work before any fold is the floor under the replay's CPU per event.
  const stageEvents = Math.min(fill.events, 200_000);
  const maxBatch = loadConfig({}).processorMaxBatch;
  ctx.progress(`processors stages in one process: ${fmtInt(stageEvents)} events in steps of ${fmtInt(maxBatch)}`);
  const stages = JSON.parse(await runNode('loadtest/harness/stage-bench.ts', [String(stageEvents), String(maxBatch), '--json'], { nodeFlags: [...PROCESSORS_NODE_FLAGS, '--expose-gc'] })) as StageResult;
  const consumeUs = (consume.cpuSeconds * 1e6) / consume.events;
  const st = stages.stages;
  const inProcess = st.decode + st.raw + st.folds + st.rows;
  const floor = consumeUs + st.decode + st.raw;
  const needed = 1e6 / (ctx.targets.processorsVsRawConsume * consume.eventsPerSecond);
  ctx.figures.push({
    id: 'cpu.processors.stages',
    label: 'CPU: processors stages, one process, no Kafka/ClickHouse',
    value: `decode ${fmtMs(st.decode)} + viral.events rows ${fmtMs(st.raw)} + folds ${fmtMs(st.folds)} + derived rows ${fmtMs(st.rows)} = ${fmtMs(inProcess)} µs/event`,
    reference: `raw consume ${fmtMs(consumeUs)} + decode + viral.events rows = ${fmtMs(floor)} µs/event before any fold (→ ${fmtInt(1e6 / floor)} ev/s per core); ${ctx.targets.processorsVsRawConsume} × raw consume leaves ${fmtMs(needed)} µs/event for everything`,
    data: { ...stages, rawConsumeMicrosecondsPerEvent: consumeUs, floorMicrosecondsPerEvent: floor, targetMicrosecondsPerEvent: needed },
  });
  // The state the folds keep grows with every event retained, and a restart rebuilds all of it.
  const replayPeak = ctx.rss.peakOf('processors (replay)');
  if (stages.stateBytesPerEvent !== null) {
    ctx.figures.push({
      id: 'memory.processors.state',
      label: 'memory: processors state, one process',
      value: `${fmtInt(stages.stateBytesPerEvent)} bytes of heap per event folded (${fmtInt(stages.events)} events) → ${fmtMs((stages.stateBytesPerEvent * 1e6) / 2 ** 30)} GiB per million retained events`,
      reference: replayPeak ? `replay child: peak ${fmtInt(replayPeak / 2 ** 20)} MiB RSS after ${fmtInt(fill.events)} events (state + young generation + GC headroom)` : 'replay child RSS not sampled',
      data: { stateBytesPerEvent: stages.stateBytesPerEvent, events: stages.events, replayPeakRssBytes: replayPeak ?? null },
    });
  }
  ctx.notes.push(`processors replay wrote to: ${tables}; ${Math.round((stableAt - spawned) / 1000)} s from spawn to group Stable (tsx start + restore from viral.events), not counted in its rate`);
}

/** The tables a processors child has written rows to (its viral_processor_rows_total series). */
async function tablesWritten(svc: Service): Promise<string> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const tables = [...text.matchAll(/^viral_processor_rows_total\{[^}]*table="([^"]+)"[^}]*\} (\d+)/gm)].filter((m) => Number(m[2]) > 0).map((m) => m[1]);
  return tables.length ? tables.join(', ') : 'no rows written';
}

// ── freshness ─────────────────────────────────────────────────────────────────────────────────

type Visibility = (eventId: string, occurredAt: number, expected: number) => Promise<boolean>;

/**
 * Ingest 202 → visible through the api, one probe event at a time, while a background load posts
 * batches for another app. The probe is an invite_sent of a dedicated app, seen through
 * GET /v1/viral/coefficient (its hour window's invites_sent reaches the count posted so far);
 * when the route never shows the first probe (no k-factor processor registered yet), the
 * probes are read from viral.events in ClickHouse instead and the figure says so.
 */
export async function freshnessScenario(ctx: Ctx): Promise<void> {
  const f = ctx.profile.freshness;
  // Freshness at the background load, not the backlog an earlier scenario left (after the full
  // profile's ingest runs the live processors were still ~10 s behind, and the first probe waited
  // behind that backlog).
  ctx.progress('waiting for the live processors to catch up with the earlier scenarios');
  const caughtUp = await liveCaughtUp(ctx);
  ctx.notes.push(`freshness: the probes began once the live processors had caught up with the earlier scenarios' events (a wait of ${(caughtUp / 1000).toFixed(1)} s)`);
  const fresh = ctx.tenants.fresh;
  const batchSize = ctx.profile.templates.batchSize;
  const bgRate = Math.max(1, Math.round(f.backgroundEventsPerSecond / batchSize));
  const abort = new AbortController();
  const background = runCannon(
    {
      label: 'freshness background load',
      url: ctx.services.ingest.url,
      method: 'POST',
      paths: ['/v1/events/batch'],
      headers: auth(ctx.tenants.bg.ingestKey),
      connections: 4,
      durationSeconds: Math.ceil((f.samples * f.timeoutMs) / 1000),
      overallRate: bgRate,
      body: { kind: 'batch', templates: ctx.profile.templates, batchSize, tag: `${ctx.runId}.bg` },
      now: ctx.now,
    },
    1,
    () => undefined,
    abort.signal,
  ).catch(() => undefined);

  const windowCounts = new Map<number, number>();
  const hour = (t: number) => t - (t % 3_600_000);
  const viaApi: Visibility = async (_id, occurredAt, expected) => {
    const from = new Date(hour(occurredAt)).toISOString();
    const to = new Date(hour(occurredAt) + 3_600_000).toISOString();
    const res = await fetch(`${ctx.services.api.url}/v1/viral/coefficient?from=${from}&to=${to}&granularity=hour&channel=other`, { headers: auth(fresh.readKey) });
    if (!res.ok) return false;
    const body = (await res.json()) as { series: { invites_sent: number }[] };
    return (body.series[0]?.invites_sent ?? 0) >= expected;
  };
  const viaClickHouse: Visibility = async (id) => {
    const rows = await ctx.ch.query<{ n: string }>(sql`SELECT count() AS n FROM viral.events WHERE app_id = ${str(fresh.appId)} AND event_id = ${str(id)}`);
    return Number(rows[0]?.n ?? 0) > 0;
  };

  let seq = 0;
  async function probe(visible: Visibility, timeoutMs: number): Promise<number | undefined> {
    const i = seq++;
    const occurredAt = Date.now();
    const eventId = `${ctx.runId}.fresh.${i}`;
    const res = await fetch(`${ctx.services.ingest.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(fresh.ingestKey) },
      body: JSON.stringify({ event_id: eventId, type: 'invite_sent', occurred_at: occurredAt, user_id: `fresh-user-${i % 50}`, properties: { invite_id: `${ctx.runId}.inv.${i}`, channel: 'other' } }),
    });
    const acked = performance.now();
    if (res.status !== 202) throw new Error(`freshness probe answered ${res.status}: ${await res.text()}`);
    const expected = (windowCounts.get(hour(occurredAt)) ?? 0) + 1;
    windowCounts.set(hour(occurredAt), expected);
    const deadline = acked + timeoutMs;
    while (performance.now() < deadline) {
      if (await visible(eventId, occurredAt, expected)) return performance.now() - acked;
      await sleep(f.pollMs);
    }
    return undefined;
  }

  await sleep(2000); // let the background load reach its rate
  const hourNow = hour(Date.now());
  const route = await probeRoute(`${ctx.services.api.url}/v1/viral/coefficient?from=${new Date(hourNow).toISOString()}&to=${new Date(hourNow + 3_600_000).toISOString()}&granularity=hour`, { headers: auth(fresh.readKey) });
  let method = 'api GET /v1/viral/coefficient (hour window, channel other)';
  let visible = viaApi;
  const first = route.ok ? await probe(viaApi, f.timeoutMs) : undefined;
  if (first === undefined) {
    method = `ClickHouse viral.events (${route.ok ? `the coefficient route did not show the first probe within ${f.timeoutMs} ms` : route.why})`;
    visible = viaClickHouse;
  }
  ctx.progress(`freshness via ${method.split(' (')[0]}: ${f.samples} probes, background ${fmtInt(bgRate * batchSize)} ev/s`);
  const samples: number[] = [];
  let lost = 0;
  for (let i = 0; i < f.samples; i++) {
    const ms = await probe(visible, f.timeoutMs);
    if (ms === undefined) lost++;
    else samples.push(ms);
    if ((i + 1) % 10 === 0) ctx.progress(`freshness: ${i + 1}/${f.samples} probes, last ${ms === undefined ? 'timed out' : `${Math.round(ms)} ms`}`);
  }
  abort.abort();
  await background;
  const l = latency(samples);
  ctx.figures.push({
    id: 'freshness',
    label: 'freshness: ingest 202 → visible',
    value: `p50 ${fmtMs(l.p50)} / p95 ${fmtMs(l.p95)} ms (${l.count} probes${lost ? `, ${lost} not visible within ${f.timeoutMs} ms` : ''})`,
    reference: `via ${method.split(' (')[0]}; background ${fmtInt(bgRate * batchSize)} ev/s`,
    ...atMost(lost ? Infinity : l.p95, ctx.targets.freshnessP95Ms, 'p95'),
    data: { method, latency: l, lost, backgroundEventsPerSecond: bgRate * batchSize, pollMs: f.pollMs },
  });
  if (first === undefined) ctx.notes.push(`freshness measured through ${method}`);
}

// ── api ───────────────────────────────────────────────────────────────────────────────────────

/**
 * 'no route' (404 from the not-found handler) vs a route that answered something else; a 503
 * (e.g. definitions still loading at start-up) is retried for up to 20 s.
 */
async function probeRoute(url: string, init: RequestInit): Promise<{ ok: boolean; why?: string }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status === 503 && Date.now() < deadline) {
      await sleep(1000);
      continue;
    }
    if (res.status === 404 && /no route/.test(text)) return { ok: false, why: `route does not exist yet (${init.method ?? 'GET'} ${new URL(url).pathname} → 404)` };
    if (!res.ok) return { ok: false, why: `${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 120)}` };
    return { ok: true };
  }
}

/**
 * p50/p99 of the coefficient route (30 days, hourly) and of the assignment route at a fixed rate,
 * beside GET /bare of the bare Fastify child at the same rate and connections. The main app first
 * gets a demo history (design §8) so the coefficient route reads realistic windows.
 */
/** A GET whose body comes back as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ body: Buffer; type: string; encoding?: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: Buffer.concat(chunks), type: String(res.headers['content-type'] ?? 'application/json'), encoding: res.headers['content-encoding'] }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export async function apiScenario(ctx: Ctx): Promise<void> {
  const a = ctx.profile.api;
  const h = ctx.profile.history;
  const main = ctx.tenants.main;
  const events = demoEvents(h, ctx.now);
  ctx.progress(`posting a ${h.days}-day demo history (${fmtInt(events.length)} events) for the api reads`);
  await postBatches(ctx.services.ingest.url, main.ingestKey, events, 500);
  await liveCaughtUp(ctx);

  const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const from = to - a.coefficientDays * 86_400_000;
  const coefficientPath = `/v1/viral/coefficient?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&granularity=${a.granularity}`;
  const fixed = (label: string, url: string, paths: string[], key: string): CannonSpec => ({
    label,
    url,
    method: 'GET',
    paths,
    // As browsers, Grafana and fetch() ask: large answers come back gzipped (api/response-cache.ts).
    headers: { ...auth(key), 'accept-encoding': 'gzip' },
    connections: a.connections,
    durationSeconds: a.durationSeconds,
    warmupSeconds: a.warmupSeconds,
    overallRate: a.ratePerSecond,
    now: ctx.now,
  });

  // How busy the whole machine was during each measured run: at these rates the services use a
  // few % of a core, so a p99 above the route's own cost comes from the rest of the machine or from
  // the cores waking up between requests (the bare reference shows the latter).
  const paced = async (spec: CannonSpec): Promise<LoadResult & { machineBusy?: number }> => {
    let start: ReturnType<typeof machineTicks>;
    let machineBusy: number | undefined;
    const r = await runCannon(spec, 1, ctx.progress, undefined, (phase) => {
      if (phase === 'start') start = machineTicks();
      else machineBusy = busyShare(start, machineTicks());
    });
    return { ...r, machineBusy };
  };

  ctx.progress(`bare Fastify GET at ${a.ratePerSecond} req/s`);
  const bare = await paced(fixed('bare Fastify GET', ctx.services.bare.url, ['/bare'], main.readKey));
  const bareRef = `bare Fastify GET: p50 ${fmtMs(bare.latency.p50)} / p99 ${fmtMs(bare.latency.p99)} ms${busyNote(bare.machineBusy)}`;

  const coefficient = await probeRoute(`${ctx.services.api.url}${coefficientPath}`, { headers: auth(main.readKey) });
  const cLabel = `api coefficient (${a.coefficientDays} d, ${a.granularity}) @ ${a.ratePerSecond} req/s`;
  if (!coefficient.ok) ctx.figures.push({ id: 'api.coefficient', label: cLabel, value: '', skipped: coefficient.why, target: `p99 ≤ ${ctx.targets.coefficientP99Ms} ms` });
  else {
    const rows = ((await (await fetch(`${ctx.services.api.url}${coefficientPath}`, { headers: auth(main.readKey) })).json()) as { series: unknown[] }).series.length;
    // The same answer, byte for byte as the load generator receives it, served by the bare child.
    const answer = await rawGet(`${ctx.services.api.url}${coefficientPath}`, { ...auth(main.readKey), 'accept-encoding': 'gzip' });
    await fetch(`${ctx.services.bare.url}/bare/body`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'x-body-type': answer.type, ...(answer.encoding ? { 'x-body-encoding': answer.encoding } : {}) },
      body: new Uint8Array(answer.body),
    });
    ctx.progress(`bare Fastify GET of the same ${fmtInt(answer.body.length)}-byte answer at ${a.ratePerSecond} req/s`);
    const sameBody = await paced(fixed('bare Fastify GET, same answer', ctx.services.bare.url, ['/bare/body'], main.readKey));
    ctx.progress(`${cLabel} (${rows} rows per answer)`);
    const r = await paced(fixed(cLabel, ctx.services.api.url, [coefficientPath], main.readKey));
    ctx.figures.push({
      id: 'api.coefficient',
      label: cLabel,
      value: `${latencyText(r, ['p50', 'p99'])}, ${rows} rows${problems(r)}${busyNote(r.machineBusy)}`,
      reference: `bare Fastify GET of the same ${fmtInt(answer.body.length)}-byte ${answer.encoding ?? 'plain'} answer: p50 ${fmtMs(sameBody.latency.p50)} / p99 ${fmtMs(sameBody.latency.p99)} ms${busyNote(sameBody.machineBusy)}; ${bareRef}`,
      ...atMost(r.non2xx + r.errors ? Infinity : r.latency.p99, ctx.targets.coefficientP99Ms, 'p99'),
      data: {
        rows,
        bytes: answer.body.length,
        encoding: answer.encoding ?? null,
        result: r,
        bare: bare.latency,
        bareSameBody: sameBody.latency,
        machineBusy: { run: r.machineBusy, bare: bare.machineBusy, bareSameBody: sameBody.machineBusy },
      },
    });
  }

  const aLabel = `api assignment @ ${a.ratePerSecond} req/s`;
  const experiment = `${ctx.runId}-invite-flow`;
  const defined = await probeRoute(`${ctx.services.api.url}/v1/experiments/${experiment}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...auth(main.adminKey) },
    body: JSON.stringify({ variants: [{ name: 'control', weight: 50 }, { name: 'b', weight: 50 }], control: 'control', goal: { kind: 'conversion', event: 'invite_accepted' } }),
  });
  const assignment = defined.ok ? await probeRoute(`${ctx.services.api.url}/v1/experiments/${experiment}/assignment?user_id=u0`, { headers: auth(main.readKey) }) : defined;
  if (!assignment.ok) ctx.figures.push({ id: 'api.assignment', label: aLabel, value: '', skipped: assignment.why, target: `p99 ≤ ${ctx.targets.assignmentP99Ms} ms` });
  else {
    ctx.progress(aLabel);
    const spec = { ...fixed(aLabel, ctx.services.api.url, [`/v1/experiments/${experiment}/assignment?user_id=u{n}`], main.readKey), pathVariants: a.assignmentUsers };
    const r = await paced(spec);
    ctx.figures.push({
      id: 'api.assignment',
      label: aLabel,
      value: `${latencyText(r, ['p50', 'p99'])}${problems(r)}${busyNote(r.machineBusy)}`,
      reference: bareRef,
      ...atMost(r.non2xx + r.errors ? Infinity : r.latency.p99, ctx.targets.assignmentP99Ms, 'p99'),
      data: { result: r, bare: bare.latency, machineBusy: { run: r.machineBusy, bare: bare.machineBusy } },
    });
  }
  ctx.figures.push({ id: 'api.bare', label: `bare Fastify GET @ ${a.ratePerSecond} req/s`, value: `${latencyText(bare, ['p50', 'p99'])}${problems(bare)}${busyNote(bare.machineBusy)}`, reference: 'the reference itself', data: { result: bare, machineBusy: bare.machineBusy } });
}

// ── concurrency ───────────────────────────────────────────────────────────────────────────────

/**
 * 12,500 keep-alive clients posting single events at a fixed aggregate rate, split over processes:
 * every client posts once per connections/rate seconds, the clients' posts evenly spaced.
 */
export async function concurrencyScenario(ctx: Ctx): Promise<void> {
  const c = ctx.profile.concurrency;
  const label = `${fmtInt(c.connections)} keep-alive clients @ ${fmtInt(c.eventsPerSecond)} ev/s`;
  const openFirst = Math.min(8, c.connections / c.eventsPerSecond);
  ctx.progress(`${label}: ${c.workers} load processes, connections opened over ${openFirst} s, then ${c.durationSeconds} s (load ${load()})`);
  const r = await runCannon(
    {
      label: 'concurrency',
      url: ctx.services.ingest.url,
      method: 'POST',
      paths: ['/v1/events'],
      headers: auth(ctx.tenants.main.ingestKey),
      connections: c.connections,
      durationSeconds: c.durationSeconds,
      overallRate: c.eventsPerSecond,
      // The clients connect first (as SDKs keep a connection): the run measures connected clients
      // posting, not a storm of 12,500 connects in the same seconds.
      openFirstSeconds: openFirst,
      body: { kind: 'single', templates: ctx.profile.templates, batchSize: 1, tag: `${ctx.runId}.cc` },
      now: ctx.now,
    },
    c.workers,
    ctx.progress,
  );
  const failed = r.non2xx + r.errors;
  ctx.figures.push({
    id: 'concurrency',
    label,
    value: `${fmtInt(r.okPerSecond)} ev/s accepted · p50 ${fmtMs(r.latency.p50)} / p99 ${fmtMs(r.latency.p99)} ms · ${fmtInt(failed)} errors · ${fmtInt(r.connectionsAnswered)} connections answered`,
    reference: `asked ${fmtInt(c.eventsPerSecond)} ev/s, evenly spaced: each of ${fmtInt(c.connections)} keep-alive connections (opened over ${openFirst} s first) posts every ${Math.round((c.connections / c.eventsPerSecond) * 100) / 100} s`,
    ratio: Math.round((r.okPerSecond / c.eventsPerSecond) * 100) / 100,
    target: '0 errors',
    pass: failed === 0,
    data: { result: r },
  });
}

// Run in this order when none is chosen. The processors replay goes first: its child restores every
// app's raw events before it joins its group, so after the ingest scenario (~750k events in the
// quick profile) its restore and heap depended on what ran before it (10–46 s from spawn to Stable).
export const SCENARIOS = {
  processors: processorsScenario,
  ingest: ingestScenario,
  freshness: freshnessScenario,
  api: apiScenario,
  concurrency: concurrencyScenario,
  // Issues 3 and 4 (graph-scenarios.ts).
  windows: windowProcessorsScenario,
  graph: graphScenario,
  chains: chainsScenario,
} as const;
export type ScenarioName = keyof typeof SCENARIOS;
