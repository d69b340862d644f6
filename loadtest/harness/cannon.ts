// Runs autocannon in one or more child processes (cannon-worker.ts) and merges their results:
// counts add up, latency samples are concatenated so the percentiles are those of the whole run.
import type { TemplateSource } from './bodies.ts';
import { latency, type Latency } from './stats.ts';
import { runNode } from './services.ts';

export interface CannonSpec {
  label: string;
  url: string;
  method: 'GET' | 'POST';
  /** GET: cycled per connection. POST: the first is the path. */
  paths: string[];
  /** Expands each path's `{n}` to 0..pathVariants−1 in the worker (argv stays small). */
  pathVariants?: number;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Unrecorded run before the measured one (same settings). */
  warmupSeconds?: number;
  /** Requests per second over all connections, evenly spaced (fixed-rate runs, pacing.ts pacedClients); none = as fast as possible. */
  overallRate?: number;
  /**
   * Fixed-rate runs: open the connections evenly over this long before the requests start; it is
   * not part of `durationSeconds` and nothing of it is measured (connect errors still count).
   */
  openFirstSeconds?: number;
  body?: { kind: 'single' | 'batch'; templates: TemplateSource; batchSize: number; tag: string };
  /** The demo's `now`, so every worker cuts the same events. */
  now: number;
}

/** stderr markers of a worker around its measured run (after the warm-up). */
export const MEASURE_START = '@@measure-start';
export const MEASURE_END = '@@measure-end';

export interface WorkerResult {
  durationSeconds: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  latenciesMs: number[];
  /** Connections that got at least one answer during the measured run. */
  connectionsAnswered?: number;
}

export interface LoadResult {
  label: string;
  connections: number;
  overallRate?: number;
  workers: number;
  responses: number;
  /** 2xx responses per second (summed over workers, each over its own duration). */
  okPerSecond: number;
  statusCodes: Record<string, number>;
  /** Non-2xx responses. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  latency: Latency;
  connectionsAnswered: number;
}

/** Splits `total` into `parts` integers that differ by at most one. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function mergeWorkers(spec: CannonSpec, results: WorkerResult[]): LoadResult {
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let okPerSecond = 0;
  for (const r of results) {
    let workerOk = 0;
    for (const [code, n] of Object.entries(r.statusCodes)) {
      statusCodes[code] = (statusCodes[code] ?? 0) + n;
      if (code.startsWith('2')) workerOk += n;
    }
    ok += workerOk;
    okPerSecond += r.durationSeconds > 0 ? workerOk / r.durationSeconds : 0;
  }
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    label: spec.label,
    connections: spec.connections,
    overallRate: spec.overallRate,
    workers: results.length,
    responses,
    okPerSecond: Math.round(okPerSecond),
    statusCodes,
    non2xx: responses - ok,
    errors: results.reduce((a, r) => a + r.errors, 0),
    timeouts: results.reduce((a, r) => a + r.timeouts, 0),
    latency: latency(results.flatMap((r) => r.latenciesMs)),
    connectionsAnswered: results.reduce((a, r) => a + (r.connectionsAnswered ?? 0), 0),
  };
}

/**
 * `onMeasure` is called when the first worker starts and ends its measured run (CPU accounting of
 * the services, services.ts cpuMeter).
 */
export async function runCannon(
  spec: CannonSpec,
  workers = 1,
  progress: (line: string) => void = () => undefined,
  signal?: AbortSignal,
  onMeasure?: (phase: 'start' | 'end') => void,
): Promise<LoadResult> {
  const conns = split(spec.connections, workers);
  const rates = spec.overallRate ? split(spec.overallRate, workers) : [];
  const outs = await Promise.all(
    conns.map((connections, i) => {
      const part: CannonSpec = {
        ...spec,
        label: workers > 1 ? `${spec.label} [${i + 1}/${workers}]` : spec.label,
        connections,
        overallRate: spec.overallRate ? rates[i] : undefined,
        body: spec.body && { ...spec.body, tag: `${spec.body.tag}w${i}` },
      };
      const onStderr = (line: string) => {
        if (line === MEASURE_START || line === MEASURE_END) {
          if (i === 0) onMeasure?.(line === MEASURE_START ? 'start' : 'end');
        } else progress(line);
      };
      return runNode('loadtest/harness/cannon-worker.ts', [JSON.stringify(part)], { onStderr, signal });
    }),
  );
  return mergeWorkers(
    spec,
    outs.map((o) => JSON.parse(o.trim().split('\n').pop()!) as WorkerResult),
  );
}
