// The benchmarks of issue 4 (referral graph memory and time; the chain route 50 levels deep) and
// issue 3 (k-factor and cohort processor throughput), each beside a physical reference measured
// in the same run, like the scenarios of scenarios.ts. The replay topic and its raw consume rate
// are shared with the processors scenario (replayTopic): whichever runs first fills it.
import type { PostedEvent } from '../../core/demo/index.ts';
import { loadConfig } from '../../core/config.ts';
import { ensureTopics, createKafka } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/log.ts';
import { runCannon, type CannonSpec, type LoadResult } from './cannon.ts';
import { postBatches } from './demo-feed.ts';
import type { GraphJob, GraphResult } from './graph-bench.ts';
import { atLeast, fmtInt, fmtMiB, fmtMs, type Figure } from './report.ts';
import type { Ctx } from './scenarios.ts';
import { runNode } from './services.ts';
import type { WindowJob, WindowResult } from './window-bench.ts';

// ── the replay topic, shared with the processors scenario ────────────────────────────────────

export interface Replay {
  fill: { events: number; eventsPerSecond: number };
  consume: { events: number; eventsPerSecond: number; seconds: number; cpuSeconds: number };
}

const replays = new WeakMap<Ctx, Promise<Replay>>();

/**
 * Fills the run's replay topic with `processors.replayEvents` normalized demo events and measures
 * the raw kafkajs consume rate of it (the physical reference of every processor figure), once per
 * run.
 */
export function replayTopic(ctx: Ctx): Promise<Replay> {
  let r = replays.get(ctx);
  if (!r) replays.set(ctx, (r = fillAndConsume(ctx)));
  return r;
}

async function fillAndConsume(ctx: Ctx): Promise<Replay> {
  const n = ctx.profile.processors.replayEvents;
  await ensureTopics(createKafka({ brokers: ctx.brokers, clientId: 'loadtest-admin', log: createLogger('warn') }), [{ topic: ctx.topics.replay, partitions: 4 }]);
  ctx.progress(`filling ${ctx.topics.replay} with ${fmtInt(n)} normalized demo events`);
  // ~13 events per seed user over 14 days (core/demo); rounds of ≤ 15k seed users bound memory.
  const fill = JSON.parse(
    await runNode(
      'loadtest/harness/kafka-worker.ts',
      [JSON.stringify({ mode: 'fill', brokers: ctx.brokers, topic: ctx.topics.replay, appId: ctx.tenants.main.appId, templates: { seed: 1000, days: 14, seedUsers: Math.min(15_000, Math.ceil(n / 12)) }, now: ctx.now, events: n, tag: `${ctx.runId}.fill` })],
      { onStderr: ctx.progress },
    ),
  ) as Replay['fill'];
  ctx.progress(`raw kafkajs consume of ${fmtInt(fill.events)} messages`);
  const consume = JSON.parse(
    await runNode('loadtest/harness/kafka-worker.ts', [JSON.stringify({ mode: 'consume', brokers: ctx.brokers, topic: ctx.topics.replay, groupId: `${ctx.groups.replay}-raw`, events: fill.events })], { onStderr: ctx.progress }),
  ) as Replay['consume'];
  return { fill, consume };
}

// ── issue 4: the graph's memory and time ─────────────────────────────────────────────────────

/** Issue 4 "Benchmark": "Target: under 300 MB for 1M users" (read as MiB, scaled per user). */
export const GRAPH_TARGET_BYTES_PER_MILLION_USERS = 300 * 1024 * 1024;

/**
 * ReferralGraph over `graph.users` synthetic users (all but `graph.roots` referred: one edge
 * each) in batches of `graph.batchSize` events, in a child process (graph-bench.ts) so its RSS is
 * the graph's own; beside a child folding the same parsed events into a bare Map. The target is
 * checked on the RSS the graph adds; the heap it retains and where it goes are in the notes.
 */
export async function graphScenario(ctx: Ctx): Promise<void> {
  const g = ctx.profile.graph;
  const run = async (mode: GraphJob['mode']): Promise<GraphResult> => {
    ctx.progress(`graph bench (${mode}): ${fmtInt(g.users)} users in batches of ${fmtInt(g.batchSize)} events`);
    const job: GraphJob = { mode, ...g, breakdown: mode === 'graph' };
    return JSON.parse(await runNode('loadtest/harness/graph-bench.ts', [JSON.stringify(job)], { nodeFlags: ['--expose-gc', ...ctx.nodeFlags], onStderr: ctx.progress })) as GraphResult;
  };
  const floor = await run('floor');
  const graph = await run('graph');
  const rss = (r: GraphResult) => r.after.rss - r.before.rss;
  const heap = (r: GraphResult) => r.after.heapUsed - r.before.heapUsed;
  const limit = (GRAPH_TARGET_BYTES_PER_MILLION_USERS * graph.users) / 1e6;
  const perUser = (bytes: number) => `${fmtInt(bytes / graph.users)} B/user`;
  const size = `${fmtInt(graph.users)} users, ${fmtInt(graph.edges ?? 0)} edges, ${fmtInt(graph.invitations)} invitations`;
  ctx.figures.push({
    id: 'graph.memory',
    label: `referral graph memory, ${size}`,
    value: `RSS +${fmtMiB(rss(graph))} (${fmtMiB(graph.before.rss)} → ${fmtMiB(graph.after.rss)}, peak ${fmtMiB(graph.peakRss)}) · heap +${fmtMiB(heap(graph))} (${perUser(heap(graph))})`,
    reference: `bare Map user → referrer: RSS +${fmtMiB(rss(floor))} · heap +${fmtMiB(heap(floor))} (${perUser(heap(floor))})`,
    ratio: Math.round((rss(graph) / limit) * 100) / 100,
    target: `RSS < ${fmtMiB(limit)}`,
    pass: rss(graph) < limit,
    data: { graph, floor, limitBytes: limit },
  });
  ctx.figures.push({
    id: 'graph.apply',
    label: `graph.apply, batches of ${fmtInt(g.batchSize)} events`,
    value: `${fmtInt(graph.eventsPerSecond)} ev/s · ${fmtInt(graph.usersPerSecond)} users/s (${graph.applySeconds.toFixed(1)} s, max depth ${graph.maxDepth})`,
    reference: `bare Map fold: ${fmtInt(floor.eventsPerSecond)} ev/s`,
    ratio: Math.round((graph.eventsPerSecond / floor.eventsPerSecond) * 100) / 100,
    data: { graph: { eventsPerSecond: graph.eventsPerSecond, applySeconds: graph.applySeconds }, floor: { eventsPerSecond: floor.eventsPerSecond } },
  });
  const parts = (graph.breakdown ?? []).filter((b) => b.bytes > 1024 * 1024);
  ctx.notes.push(
    `graph memory after GC: RSS ${fmtMiB(graph.after.rss)} = V8 heap committed ${fmtMiB(graph.after.heapTotal)} (used ${fmtMiB(graph.after.heapUsed)}) + native ${fmtMiB(graph.after.rss - graph.after.heapTotal)}; heap by structure (heap freed by dropping each in turn, ${fmtMiB(heap(graph))} in all): ${parts.map((b) => `${b.structure} ${fmtMiB(b.bytes)} (${fmtInt(b.bytes / b.count)} B each)`).join('; ')}`,
  );
}

// ── issue 4: the chain route 50 levels deep ──────────────────────────────────────────────────

/**
 * p50/p99 of GET /v1/viral/chains/:userId for a user `chains.depth` levels deep (CHAIN_MAX_DEPTH
 * 50 by default: the node and its stored chain, two lookups at once) and for the root of its chain,
 * at a fixed rate, beside GET /bare at the same rate. The chain goes through the real pipeline
 * (ingest → Kafka → processors → viral.referral_nodes and viral.referral_ancestors);
 * `chains.bulkUsers` more users are inserted straight into both tables (same app) so the lookups
 * run against tables of that size — a million sign-ups through ingest would take this machine
 * longer than the whole run.
 */
export async function chainsScenario(ctx: Ctx): Promise<void> {
  const c = ctx.profile.chains;
  const main = ctx.tenants.main;
  const auth = { authorization: `Bearer ${main.readKey}` };
  const user = (k: number) => `chain_${ctx.runId}_${k}`;
  const t0 = Date.now() - (c.depth + 1) * 1000;
  const chain = Array.from({ length: c.depth + 1 }, (_, k): PostedEvent => ({
    event_id: `${ctx.runId}.chain.${k}`,
    type: 'signup',
    occurred_at: t0 + k * 1000,
    user_id: user(k),
    properties: k === 0 ? {} : { referrer_id: user(k - 1) },
  }));
  ctx.progress(`posting a ${c.depth}-deep chain (${chain.length} sign-ups) through ingest`);
  await postBatches(ctx.services.ingest.url, main.ingestKey, chain, 500);

  ctx.progress(`inserting ${fmtInt(c.bulkUsers)} bulk users into viral.referral_nodes and viral.referral_ancestors`);
  await insertBulkNodes(ctx, c.bulkUsers);

  const deepPath = `/v1/viral/chains/${user(c.depth)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${ctx.services.api.url}${deepPath}`, { headers: auth });
    const body = res.ok ? ((await res.json()) as { depth: number | null; ancestors: string[] }) : undefined;
    if (body?.depth === c.depth && body.ancestors.length === c.depth && body.ancestors[c.depth - 1] === user(0)) break;
    if (Date.now() > deadline) throw new Error(`${deepPath} did not show depth ${c.depth} within 60 s (last: ${res.status} ${JSON.stringify(body)})`);
    await new Promise((r) => setTimeout(r, 250));
  }

  const spec = (label: string, url: string, path: string): CannonSpec => ({
    label,
    url,
    method: 'GET',
    paths: [path],
    headers: auth,
    connections: c.connections,
    durationSeconds: c.durationSeconds,
    warmupSeconds: c.warmupSeconds,
    overallRate: c.ratePerSecond,
    now: ctx.now,
  });
  const at = `@ ${c.ratePerSecond} req/s`;
  ctx.progress(`bare Fastify GET ${at}`);
  const bare = await runCannon(spec('bare Fastify GET', ctx.services.bare.url, '/bare'), 1, ctx.progress);
  ctx.progress(`chain route, depth ${c.depth} ${at}`);
  const deep = await runCannon(spec(`chain depth ${c.depth}`, ctx.services.api.url, deepPath), 1, ctx.progress);
  ctx.progress(`chain route, depth 0 ${at}`);
  const root = await runCannon(spec('chain depth 0', ctx.services.api.url, `/v1/viral/chains/${user(0)}`), 1, ctx.progress);

  const lat = (r: LoadResult) => `p50 ${fmtMs(r.latency.p50)} / p99 ${fmtMs(r.latency.p99)} ms${r.non2xx + r.errors ? ` · ${fmtInt(r.non2xx + r.errors)} failed` : ''}`;
  // A route slower than connections / rate cannot keep the asked rate: the achieved one says so.
  const deeper = deep.latency.p50 - root.latency.p50;
  const table = `${fmtInt(c.bulkUsers + c.depth + 1)} users in the app`;
  ctx.figures.push({
    id: 'chains.deep',
    label: `api chain of a user ${c.depth} deep ${at}`,
    value: `${lat(deep)} (${fmtInt(deep.latency.count)} requests, ${deep.okPerSecond} req/s achieved; ${table})`,
    reference: `bare Fastify GET: ${lat(bare)}; depth 0: ${lat(root)} → ${fmtMs(deeper)} ms more for ${c.depth} levels (p50)`,
    ratio: Math.round((deep.latency.p99 / bare.latency.p99) * 100) / 100,
    data: { deep, root, bare, deeperMs: deeper, bulkUsers: c.bulkUsers },
  });
  ctx.notes.push(
    `chains: the ${c.depth}-deep chain went through ingest → Kafka → processors → viral.referral_nodes and viral.referral_ancestors; the ${fmtInt(c.bulkUsers)} bulk users were inserted directly into both; ratio = p99 / bare p99`,
  );
}

/**
 * A random forest of `n` users (0.1% roots, referrer a random earlier user): their referral_nodes
 * rows, and their referral_ancestors rows as the processors store them (CHAIN_MAX_DEPTH + 1 ids).
 */
async function insertBulkNodes(ctx: Ctx, n: number): Promise<void> {
  const appId = ctx.tenants.main.appId;
  const id = (i: number) => `bulk_${ctx.runId}_${i}`;
  const stored = loadConfig({}).chainMaxDepth + 1;
  const parents = new Int32Array(n);
  const depth = new Int32Array(n);
  const root = new Int32Array(n);
  const signupAt = Math.floor(Date.now() / 1000) - n;
  const version = Date.now() * 1000;
  const chunk = 50_000;
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let from = 0; from < n; from += chunk) {
    const rows: Record<string, unknown>[] = [];
    const chains: Record<string, unknown>[] = [];
    for (let i = from; i < Math.min(n, from + chunk); i++) {
      const isRoot = i % 1000 === 0;
      const parent = isRoot ? -1 : Math.floor(rnd() * i);
      parents[i] = parent;
      const ancestors: string[] = [];
      for (let a = parent; a >= 0 && ancestors.length < stored; a = parents[a]) ancestors.push(id(a));
      chains.push({ app_id: appId, user_id: id(i), ancestors, version });
      depth[i] = isRoot ? 0 : depth[parent] + 1;
      root[i] = isRoot ? i : root[parent];
      rows.push({
        app_id: appId,
        user_id: id(i),
        referrer_id: isRoot ? '' : id(parent),
        root_id: id(root[i]),
        depth: depth[i],
        status: isRoot ? 'root' : 'accepted',
        signup_at: signupAt + i,
        invite_id: '',
        // Subtree statistics do not affect the route's cost; zeros keep the insert simple.
        direct_referrals: 0,
        descendants: 0,
        subtree_depth: 0,
        version,
      });
    }
    await ctx.ch.insert('viral.referral_nodes', rows);
    await ctx.ch.insert('viral.referral_ancestors', chains);
    ctx.progress(`bulk users: ${fmtInt(Math.min(n, from + chunk))}/${fmtInt(n)}`);
  }
}

// ── issue 3: k-factor and cohort processor throughput ────────────────────────────────────────

/**
 * Replays the processors scenario's topic through the referral graph, KFactorProcessor and
 * CohortProcessor in one child (window-bench.ts), beside the raw kafkajs consume rate of the same
 * topic. Each processor's figure is the events over its own apply time; the combined replay
 * (consume + decode + the three applies, wall clock) carries issue 7's processors target.
 */
export async function windowProcessorsScenario(ctx: Ctx): Promise<void> {
  const { fill, consume } = await replayTopic(ctx);
  ctx.progress(`graph + k-factor + cohorts replay of ${fmtInt(fill.events)} events`);
  const job: WindowJob = { brokers: ctx.brokers, topic: ctx.topics.replay, groupId: `${ctx.groups.replay}-windows`, events: fill.events };
  const r = JSON.parse(await runNode('loadtest/harness/window-bench.ts', [JSON.stringify(job)], { nodeFlags: ctx.nodeFlags, onStderr: ctx.progress })) as WindowResult;
  const ref = `raw kafkajs consume: ${fmtInt(consume.eventsPerSecond)} ev/s (${consume.seconds.toFixed(1)} s)`;
  const rate = (seconds: number) => r.events / seconds;
  const apply = (id: string, label: string, seconds: number, rows: string): Figure => ({
    id: `windows.${id}`,
    label: `${label}, ${fmtInt(r.events)} events`,
    value: `${fmtInt(rate(seconds))} ev/s (apply ${seconds.toFixed(1)} s${rows})`,
    reference: ref,
    ratio: Math.round((rate(seconds) / consume.eventsPerSecond) * 100) / 100,
    data: { events: r.events, applySeconds: seconds, eventsPerSecond: rate(seconds), rawConsume: consume },
  });
  const st = r.stageSeconds;
  const rowsOf = (table: string) => `, ${fmtInt(r.rows[table] ?? 0)} rows`;
  ctx.figures.push(
    apply('kfactor', 'k-factor processor apply (graph excluded)', st.kFactor, rowsOf('kfactor_windows')),
    apply('cohorts', 'cohort processor apply (graph excluded)', st.cohorts, rowsOf('cohort_windows')),
    apply('graph', 'referral-graph processor apply (shared by both)', st.graph, rowsOf('referral_nodes')),
    apply('combined', 'graph + k-factor + cohorts apply', st.graph + st.kFactor + st.cohorts, ''),
    {
      id: 'windows.replay',
      label: `consume + decode + graph + k-factor + cohorts, ${fmtInt(r.events)} events`,
      value: `${fmtInt(r.eventsPerSecond)} ev/s (${r.seconds.toFixed(1)} s, decode ${st.decode.toFixed(1)} s, ${fmtInt(r.batches)} batches, peak RSS ${fmtMiB(r.peakRss)})`,
      reference: ref,
      ...atLeast(r.eventsPerSecond, consume.eventsPerSecond, ctx.targets.processorsVsRawConsume),
      data: { ...r, rawConsume: consume },
    },
  );
}
