// Summarizes a V8 .cpuprofile (written by `node --cpu-prof`, see `npm run loadtest -- --cpu-prof`):
// self time per function and per package as shares of the busy (non-idle) time, the evidence for issue 7 §3's hot paths.
// CLI: `tsx loadtest/harness/profile-summary.ts <file.cpuprofile> [top] [from seconds]`.
import { readFileSync } from 'node:fs';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  selfMs: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time the thread was busy; shares below are of this (a service idles between scenarios). */
  busyMs: number;
  idleMs: number;
  /** (garbage collector), (program) etc. are kept as V8 names them. */
  functions: HotSpot[];
  /** Self time grouped by package (node_modules/<pkg>), repository folder, or node: internals. */
  packages: HotSpot[];
}

/** Where a frame's code lives: 'fastify', 'kafkajs', 'ingest', 'core', 'node:internal', '(program)'. */
export function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node:internal';
  const repo = /\/(core|ingest|processors|api|loadtest)\/([^/]+)/.exec(url);
  if (repo) return repo[1] === 'core' || repo[1] === 'processors' ? `${repo[1]}/${repo[2].replace(/\.ts$/, '')}` : repo[1];
  return url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, total: number, n: number): HotSpot[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, share: total > 0 ? Math.round((us / total) * 1000) / 1000 : 0 }));
}

/** Self time (sum of the sample intervals that landed in each node), aggregated. */
/** `fromMs`: only samples taken that long after the profile started (skips start-up and restore). */
export function summarizeProfile(p: CpuProfile, n = 20, fromMs = 0): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (!node || at < fromMs * 1000) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += dt;
      return;
    }
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|core|ingest|processors|api|loadtest)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + dt);
    const o = owner(url, functionName);
    pkg.set(o, (pkg.get(o) ?? 0) + dt);
    total += dt;
  });
  return { busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), functions: top(fn, total, n), packages: top(pkg, total, n) };
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  return [
    `${title}: ${s.busyMs} ms busy (${s.idleMs} ms idle); shares of busy time`,
    '  by package:',
    ...s.packages.map((h) => `    ${pct(h.share)}  ${h.name}`),
    '  by function (self time):',
    ...s.functions.map((h) => `    ${pct(h.share)}  ${h.name}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx loadtest/harness/profile-summary.ts <file.cpuprofile> [top] [from seconds]');
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25), Number(process.argv[4] ?? 0) * 1000);
  process.stdout.write(formatSummary(file, summary) + '\n');
}
