// Memory and time of the referral graph (issue 4 "Benchmark"), in its own process so RSS and heap
// are the graph's own: `node --expose-gc --import tsx loadtest/harness/graph-bench.ts '<GraphJob>'`.
//
//   graph — ReferralGraph.apply over the synthetic forest (referral-forest.ts) in batches;
//   floor — the physical reference: the same parsed events folded into one bare
//           Map<user_id, named referrer or invite_id>, the least any in-memory graph of these
//           users must hold.
//
// Every batch is serialized and parsed back as the runtime decodes a Kafka message
// (core/kafka/run-pipeline.ts), so the id strings the graph keeps are the flat copies JSON.parse
// makes. Only `apply` is timed. RSS/heap "before" and "after" are taken after two full GCs.
// With `breakdown`, the graph's structures are then dropped one at a time and the heap each one
// frees is recorded: the retained size of each, a per-structure profile without a 1 GB heap
// snapshot. Output: one JSON line (GraphResult) on stdout; progress on stderr.
import type { ViralEvent } from '../../core/events/types.ts';
import { ReferralGraph } from '../../processors/referral-graph/graph.ts';
import { forestEvents } from './referral-forest.ts';

export interface GraphJob {
  mode: 'graph' | 'floor';
  users: number;
  roots: number;
  inviteShare: number;
  seed: number;
  batchSize: number;
  breakdown: boolean;
}

export interface MemoryPoint {
  rss: number;
  /** V8 heap committed: RSS above it is native memory (allocator, code, stacks). */
  heapTotal: number;
  heapUsed: number;
}

export interface GraphResult {
  mode: GraphJob['mode'];
  users: number;
  events: number;
  invitations: number;
  applySeconds: number;
  eventsPerSecond: number;
  usersPerSecond: number;
  before: MemoryPoint;
  after: MemoryPoint;
  peakRss: number;
  /** graph mode: accepted edges and the deepest user, read back from the graph. */
  edges?: number;
  maxDepth?: number;
  /** graph mode with breakdown: heap bytes freed by dropping each structure, in drop order. */
  breakdown?: { structure: string; bytes: number; count: number }[];
}

/** The fields of graph.ts's private per-app state that the breakdown drops (read-only use). */
interface NodeInternals {
  signupEventId: string;
  inviteId: string;
  namedReferrer: string;
  referrer: string;
  childCount: number;
}
interface AppInternals {
  users: Map<string, NodeInternals>;
  invitations: Map<string, unknown>;
  byInvite: Map<string, unknown>;
  waitingFor: Map<string, unknown[]>;
  unresolved: Map<string, unknown[]>;
  changed: unknown[];
  moved: unknown[];
  invites: Set<string>;
  selfReferrals: unknown[];
}

const job = JSON.parse(process.argv[2]) as GraphJob;
const gc = globalThis.gc;
if (!gc) throw new Error('graph-bench needs node --expose-gc');
const say = (s: string) => process.stderr.write(`graph bench (${job.mode}): ${s}\n`);
const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
/**
 * Memory once GC is done: V8 returns freed pages to the OS asynchronously (its unmapper and
 * memory reducer; right after a forced GC the RSS of a 300k-user graph read 500 MiB, 3 s later
 * 336 MiB), so GC and wait until the RSS holds still (< 1 MiB per second, at most 15 s).
 */
async function settle(): Promise<MemoryPoint> {
  let rss = Infinity;
  for (let i = 0; i < 15; i++) {
    gc!();
    gc!();
    await new Promise((r) => setTimeout(r, 1000));
    const now = process.memoryUsage.rss();
    if (Math.abs(rss - now) < 1024 * 1024) break;
    rss = now;
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed };
}

/** Heap in use after a full GC (exact at once: no waiting for pages to go back to the OS). */
function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const APP = 'graph-bench';
const graph = new ReferralGraph();
const floor = new Map<string, string>();
const fold: (events: ViralEvent[]) => void =
  job.mode === 'graph'
    ? (events) => void graph.apply(events)
    : (events) => {
        for (const e of events) if (e.type === 'signup' && !floor.has(e.user_id)) floor.set(e.user_id, e.invite_id || e.referrer_id);
      };

const before = await settle();
let peakRss = before.rss;
let applyMs = 0;
let events = 0;
let invitations = 0;
let users = 0;
let lastSay = Date.now();
let batch: ViralEvent[] = [];
const flush = () => {
  // Decoded as the runtime decodes a Kafka message: fresh strings, nothing shared with the generator.
  const decoded = batch.map((e) => JSON.parse(JSON.stringify(e)) as ViralEvent);
  batch = [];
  const t = performance.now();
  fold(decoded);
  applyMs += performance.now() - t;
  events += decoded.length;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (Date.now() - lastSay >= 2000) {
    lastSay = Date.now();
    say(`${users.toLocaleString('en-US')}/${job.users.toLocaleString('en-US')} users, ${Math.round(events / (applyMs / 1000)).toLocaleString('en-US')} ev/s in apply, RSS ${mib(peakRss)}`);
  }
};
for (const group of forestEvents({ users: job.users, roots: job.roots, inviteShare: job.inviteShare, seed: job.seed, appId: APP, start: Date.UTC(2026, 0, 1) })) {
  // A user's invitation and sign-up stay in one batch, as they would in time order.
  if (batch.length + group.length > job.batchSize) flush();
  for (const e of group) {
    batch.push(e);
    if (e.type === 'invite_sent') invitations++;
    else users++;
  }
}
if (batch.length) flush();
const after = await settle();
say(`done: ${mib(after.rss - before.rss)} RSS, ${mib(after.heapUsed - before.heapUsed)} heap over the empty process`);

const result: GraphResult = {
  mode: job.mode,
  users,
  events,
  invitations,
  applySeconds: applyMs / 1000,
  eventsPerSecond: Math.round(events / (applyMs / 1000)),
  usersPerSecond: Math.round(users / (applyMs / 1000)),
  before,
  after,
  peakRss,
};

if (job.mode === 'graph') {
  let edges = 0;
  let maxDepth = 0;
  for (const n of graph.nodes(APP)) {
    if (n.status === 'accepted') edges++;
    if ((n.depth ?? 0) > maxDepth) maxDepth = n.depth ?? 0;
  }
  result.edges = edges;
  result.maxDepth = maxDepth;
  if (job.breakdown) result.breakdown = breakdown((graph as unknown as { apps: Map<string, AppInternals> }).apps.get(APP)!);
}
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));

/**
 * Drops the graph's structures one by one (each step frees only what nothing else still holds)
 * and records the heap freed. Order matters for shared strings: an invitation's sender string is
 * also a node's resolved referrer, so it is counted where its last holder goes.
 */
function breakdown(g: AppInternals): GraphResult['breakdown'] {
  const each = (f: (n: NodeInternals) => void) => {
    for (const n of g.users.values()) f(n);
  };
  let children = 0;
  each((n) => (children += n.childCount));
  const steps: [string, number, () => void][] = [
    ['change tracking of the last batch (changed/moved lists, invite set)', g.changed.length, () => ((g.changed = []), (g.moved = []), (g.invites = new Set()), (g.selfReferrals = []))],
    ['pending indexes (waitingFor, unresolved)', g.waitingFor.size + g.unresolved.size, () => (g.waitingFor.clear(), g.unresolved.clear())],
    ['byInvite index (acceptors of invitations not known yet)', g.byInvite.size, () => g.byInvite.clear()],
    // An accepted invitation's acceptor is on its record; its invite_id string is also the acceptors' node.inviteId.
    ['invitations (Map + invitation records with their acceptors + event/channel strings)', g.invitations.size, () => g.invitations.clear()],
    ['node.signupEventId strings (first sign-up event_id)', g.users.size, () => each((n) => (n.signupEventId = ''))],
    ['node.inviteId / namedReferrer / referrer strings', g.users.size, () => each((n) => ((n.inviteId = ''), (n.namedReferrer = ''), (n.referrer = '')))],
    // Children are intrusive links inside the Node objects (no per-node array to drop).
    [`users Map + Node objects (19 fields, child links of ${children.toLocaleString('en-US')} edges) + user_id strings`, g.users.size, () => g.users.clear()],
  ];
  const out: NonNullable<GraphResult['breakdown']> = [];
  let prev = heapAfterGc();
  for (const [structure, count, drop] of steps) {
    drop();
    const now = heapAfterGc();
    out.push({ structure, bytes: prev - now, count });
    say(`${structure}: ${mib(prev - now)}`);
    prev = now;
  }
  return out;
}
