// Child processes of the harness: the three services (so each has its own event loop and its own
// RSS), the bare Fastify reference, and the load generators. Every child is started through a
// shell that first raises the open-files limit to the hard limit (12,500 keep-alive clients need
// that many sockets in the load generators and in ingest).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** File that receives the child's stdout and stderr (service logs). */
  logFile?: string;
  /** Receives each stderr line (load generators' progress). */
  onStderr?: (line: string) => void;
  /** Aborting kills the child (SIGTERM). */
  signal?: AbortSignal;
}

/** Every child spawned that has not exited yet (stopChildren ends them when the run is interrupted). */
const running = new Set<ChildProcess>();

/** Ends a child: SIGTERM (the services flush and commit, --cpu-prof writes its profile), SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Ends every child still running: services, load generators and Kafka workers alike. */
export async function stopChildren(graceMs?: number): Promise<number> {
  const children = [...running];
  await Promise.all(children.map((c) => stopChild(c, graceMs)));
  return children.length;
}

/** Spawns `node --import tsx <script> ...args` from the repository root with a raised fd limit. */
export function spawnNode(script: string, args: string[], o: SpawnOptions = {}): ChildProcess {
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...(o.nodeFlags ?? []), '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: o.signal,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.on('error', () => undefined); // an abort is reported through the exit code
  if (o.logFile) {
    const log = createWriteStream(o.logFile, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  if (o.onStderr) {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        o.onStderr!(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  return child;
}

/** Runs a child to its end and returns its stdout (it must exit 0). */
export function runNode(script: string, args: string[], o: SpawnOptions = {}): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawnNode(script, args, o);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    if (!o.onStderr) child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolveRun(out) : reject(new Error(`${script} exited with ${code}: ${(err || out).slice(-1500)}`))));
  });
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** VmRSS of a process in bytes, from /proc/<pid>/status; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** pid → service name of every service started (names the --cpu-prof files). */
export const serviceNames = new Map<number, string>();

/** User + system CPU seconds a process has used (/proc/<pid>/stat fields 14–15, CLK_TCK 100). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * The process whose command line contains `needle` and, when given, whose working directory is
 * `cwd` — the embedded Kafka broker and ClickHouse server, not private ones of fault tests.
 */
export function findPid(needle: string, cwd?: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle) && (cwd === undefined || readlinkSync(`/proc/${d}/cwd`) === cwd)) return Number(d);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** The machine's CPU time over all cores in clock ticks (/proc/stat): busy, and busy + idle. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    // cpu user nice system idle iowait irq softirq steal (guest time is already counted in user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Share (0–1) of all cores' time the machine was busy between two machineTicks() readings. */
export function busyShare(a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return (b.busy - a.busy) / (b.total - a.total);
}

/** CPU seconds used by each named process between `start()` and `stop()`. */
export function cpuMeter(pids: Record<string, number | undefined>) {
  let begin: Record<string, number | undefined> = {};
  return {
    start() {
      begin = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    },
    stop(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) {
        const a = begin[k];
        const b = cpuSeconds(pid);
        if (a !== undefined && b !== undefined) out[k] = Math.round((b - a) * 100) / 100;
      }
      return out;
    },
  };
}

export interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Polls `url` until it answers 200, failing early if the child exits. */
async function waitHealthy(name: string, url: string, child: ChildProcess, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} during start-up${logFile ? ` (log: ${logFile})` : ''}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms${logFile ? ` (log: ${logFile})` : ''}`);
}

/**
 * Starts a service entry point (ingest/main.ts, processors/main.ts, api/main.ts, or the bare
 * reference) as a child and waits for its /health. SIGTERM on stop: the services flush and
 * commit (design §10), and --cpu-prof writes its profile on that exit.
 */
export async function startService(name: string, script: string, port: number, o: SpawnOptions & { timeoutMs?: number }): Promise<Service> {
  const child = spawnNode(script, [], o);
  if (child.pid !== undefined) serviceNames.set(child.pid, name);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(name, `${url}/health`, child, o.timeoutMs ?? 120_000, o.logFile);
  return {
    name,
    url,
    child,
    stop: () => stopChild(child),
  };
}

export interface RssReport {
  /** service → scenario → peak bytes. */
  peak: Record<string, Record<string, number>>;
}

/** Samples VmRSS of the registered services every `intervalMs`, tagging the current scenario. */
export function rssSampler(intervalMs = 500) {
  const services = new Map<string, number>();
  const peak: RssReport['peak'] = {};
  let scenario = 'setup';
  const sample = () => {
    for (const [name, pid] of services) {
      const rss = rssBytes(pid);
      if (rss === undefined) continue;
      const bySvc = (peak[name] ??= {});
      bySvc[scenario] = Math.max(bySvc[scenario] ?? 0, rss);
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    track(name: string, pid: number | undefined) {
      if (pid !== undefined) services.set(name, pid);
    },
    untrack(name: string) {
      sample();
      services.delete(name);
    },
    scenario(name: string) {
      sample();
      scenario = name;
    },
    /** The highest RSS sampled of a service so far, over every scenario. */
    peakOf(name: string): number | undefined {
      const bySvc = peak[name];
      return bySvc ? Math.max(...Object.values(bySvc)) : undefined;
    },
    stop(): RssReport {
      sample();
      clearInterval(timer);
      return { peak };
    },
  };
}

export const logPath = (dir: string, name: string) => join(dir, `${name}.log`);
