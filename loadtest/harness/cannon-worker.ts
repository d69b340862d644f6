// One autocannon load generator in its own process (spawned by cannon.ts): it keeps the load off
// the harness's event loop and lets a 12,500-connection run be split over several processes.
// Input: the CannonSpec as JSON in argv[2]. Output: one JSON line (WorkerResult) on stdout;
// progress lines on stderr.
import autocannon from 'autocannon';
import { createRequire } from 'node:module';
import { batchTemplates, bodyFactory, demoEvents, singleTemplates } from './bodies.ts';
import { MEASURE_END, MEASURE_START, type CannonSpec, type WorkerResult } from './cannon.ts';
import { pacedClients } from './pacing.ts';

const spec = JSON.parse(process.argv[2]) as CannonSpec;

// autocannon appends every response body chunk to a string (`req.body += chunk`, a UTF-8 decode)
// for its expectBody/verifyBody/onResponse features, which the harness does not use. On a gzip
// answer's binary bytes that decode is slow: 26 KB cost ~4 ms at p50 against ~0.3 ms for 26 KB of
// ASCII (measured here, same server), i.e. most of a core at 500 req/s, on the two cores the
// measured service shares with it. So the body is not collected; byte counts are kept apart by
// autocannon (addByteCount) and stay exact.
const PipelinedRequestsQueue = createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js') as { prototype: { addBody: (data: unknown) => void } };
PipelinedRequestsQueue.prototype.addBody = () => undefined;

function requests(): autocannon.Request[] {
  if (!spec.body) {
    const paths = spec.pathVariants ? spec.paths.flatMap((p) => Array.from({ length: spec.pathVariants! }, (_, n) => p.replace('{n}', String(n)))) : spec.paths;
    return paths.map((path) => ({ method: spec.method, path }));
  }
  const events = demoEvents(spec.body.templates, spec.now);
  const templates = spec.body.kind === 'single' ? singleTemplates(events) : batchTemplates(events, spec.body.batchSize);
  const next = bodyFactory(templates, spec.body.tag);
  return [
    {
      method: spec.method,
      path: spec.paths[0],
      setupRequest: (req) => ({ ...req, body: next() }),
    },
  ];
}

// The connections open first (openFirstSeconds, no request sent meanwhile), then the measured run.
const runSeconds = spec.durationSeconds + (spec.openFirstSeconds ?? 0);
const options: autocannon.Options = {
  url: spec.url,
  connections: spec.connections,
  duration: runSeconds,
  ...(spec.overallRate ? pacedClients(spec.connections, spec.overallRate, 10, (spec.openFirstSeconds ?? 0) * 1000) : {}),
  headers: { 'content-type': 'application/json', ...spec.headers },
  requests: requests(),
  timeout: 10,
};

// Warm-up run, not recorded: lets V8 optimize the services' hot paths (and the pools fill) first.
if (spec.warmupSeconds) {
  process.stderr.write(`${spec.label}: warming up ${spec.warmupSeconds} s\n`);
  await autocannon({ ...options, duration: spec.warmupSeconds });
}

const latencies: number[] = [];
process.stderr.write(`${MEASURE_START}\n`);
let instance!: autocannon.Instance;
const finished = new Promise<autocannon.Result>((resolveRun, reject) => {
  instance = autocannon(options, (err, result) => (err ? reject(err) : resolveRun(result)));
});
const answered = new Set<unknown>();
instance.on('response', (client: unknown, _status: number, _bytes: number, ms: number) => {
  latencies.push(Math.round(ms * 1000) / 1000);
  answered.add(client);
});
let second = 0;
let reported = { at: 0, n: 0 };
instance.on('tick', () => {
  second++;
  if (second > runSeconds) return;
  if (second % 2 === 0 || second === runSeconds) {
    process.stderr.write(`${spec.label}: ${second}/${runSeconds} s, ${Math.round((latencies.length - reported.n) / (second - reported.at))} responses/s\n`);
    reported = { at: second, n: latencies.length };
  }
});
const result = await finished;
process.stderr.write(`${MEASURE_END}\n`);
const statusCodes: Record<string, number> = {};
for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number((v as { count: number }).count);
const out: WorkerResult = {
  // No request is sent while the connections open (openFirstSeconds).
  durationSeconds: result.duration - (spec.openFirstSeconds ?? 0),
  statusCodes,
  errors: result.errors,
  timeouts: result.timeouts,
  latenciesMs: latencies,
  connectionsAnswered: answered.size,
};
process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
