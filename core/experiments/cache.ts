// In-memory copy of every app's experiment definitions, so assignment does no I/O on its hot path
// (design §6). Refreshed from ClickHouse every few seconds (a PUT served by another api instance
// shows up within one interval) and updated at once by a PUT in this process. Entries only move
// forward by version: a refresh whose query started before a local PUT landed cannot roll it back.
import type { Logger } from 'pino';
import type { ClickHouse } from '../clickhouse/client.ts';
import { bucketBounds } from './assign.ts';
import { readDefinitions, type StoredExperiment } from './store.ts';

/** A definition plus its bucket bounds, computed once per definition instead of per request. */
export interface CachedExperiment extends StoredExperiment {
  bounds: number[];
}

export interface DefinitionCache {
  /** False until the first successful load: callers answer 503 rather than a wrong 404. */
  loaded(): boolean;
  get(appId: string, experimentId: string): CachedExperiment | undefined;
  /** The app's experiments, by id. */
  list(appId: string): CachedExperiment[];
  /** Records a definition this process just stored. */
  put(e: StoredExperiment): void;
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export function createDefinitionCache(o: { ch: ClickHouse; log: Logger; refreshMs?: number }): DefinitionCache {
  const apps = new Map<string, Map<string, CachedExperiment>>();
  let isLoaded = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  function put(e: StoredExperiment): void {
    let app = apps.get(e.app_id);
    if (!app) apps.set(e.app_id, (app = new Map()));
    const current = app.get(e.experiment_id);
    if (current && current.version >= e.version) return;
    app.set(e.experiment_id, { ...e, bounds: bucketBounds(e.definition.variants) });
  }

  async function load(): Promise<void> {
    try {
      for (const e of await readDefinitions(o.ch)) put(e);
      isLoaded = true;
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'experiment definitions refresh failed; serving the cached ones');
    }
  }

  return {
    loaded: () => isLoaded,
    get: (appId, experimentId) => apps.get(appId)?.get(experimentId),
    list: (appId) => [...(apps.get(appId)?.values() ?? [])].sort((a, b) => (a.experiment_id < b.experiment_id ? -1 : 1)),
    put,
    refresh() {
      inFlight ??= load().finally(() => (inFlight = undefined));
      return inFlight;
    },
    start() {
      timer ??= setInterval(() => void this.refresh(), o.refreshMs ?? 3000);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
