// The definitions cache behind assignment (design §6 "no I/O on the hot path").
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { ClickHouse } from '../clickhouse/client.ts';
import { createDefinitionCache } from './cache.ts';
import { definitionRow, type StoredExperiment } from './store.ts';

function makeStored(id: string, version: number, control = 'control', app = 'app'): StoredExperiment {
  return {
    app_id: app,
    experiment_id: id,
    definition: { variants: [{ name: control, weight: 1 }, { name: 'b', weight: 3 }], control, goal: { kind: 'conversion', event: 'signup' } },
    updated_at: version * 1000,
    version,
  };
}

/** The row definitionsQuery answers for a stored definition. */
const queried = (e: StoredExperiment) => ({ ...definitionRow(e), latest_version: String(e.version) });

/** A ClickHouse stand-in answering the definitions query with the given rows (or failing). */
function fakeClickHouse(rows: () => Record<string, unknown>[]): ClickHouse {
  return { query: async () => rows() } as unknown as ClickHouse;
}

describe('createDefinitionCache', () => {
  it('is not loaded until a refresh succeeds, and keeps serving after a failed one', async () => {
    let fail = true;
    const stored = makeStored('x', 5);
    const cache = createDefinitionCache({
      ch: fakeClickHouse(() => {
        if (fail) throw new Error('connection refused');
        return [queried(stored)];
      }),
      log: pino({ level: 'silent' }),
    });
    await cache.refresh();
    expect(cache.loaded()).toBe(false);
    fail = false;
    await cache.refresh();
    expect(cache.loaded()).toBe(true);
    expect(cache.get('app', 'x')).toMatchObject({ experiment_id: 'x', version: 5, bounds: [2500, 10000] });
    fail = true;
    await cache.refresh();
    expect(cache.get('app', 'x')?.version).toBe(5);
  });

  it('never lets a refresh roll back a newer local PUT, and keeps apps apart', async () => {
    const cache = createDefinitionCache({ ch: fakeClickHouse(() => [queried(makeStored('x', 5, 'old')), queried(makeStored('y', 1, 'control', 'other'))]), log: pino({ level: 'silent' }) });
    cache.put(makeStored('x', 9, 'new'));
    await cache.refresh();
    expect(cache.get('app', 'x')?.definition.control).toBe('new');
    expect(cache.list('app').map((e) => e.experiment_id)).toEqual(['x']);
    expect(cache.get('app', 'y')).toBeUndefined();
    expect(cache.get('other', 'y')?.definition.control).toBe('control');
  });
});
