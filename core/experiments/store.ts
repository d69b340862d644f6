// Durable experiment definitions in `viral.experiments` (sql/migrations/0400), shared by the api
// (PUT/GET and the assignment cache) and the results job in processors/experiments. Every value
// reaches SQL through core/clickhouse/sql.ts (design §2).
import type { ClickHouse } from '../clickhouse/client.ts';
import { raw, sql, str, type Sql } from '../clickhouse/sql.ts';
import { validateDefinition, type ExperimentDefinition } from './definition.ts';

export interface StoredExperiment {
  app_id: string;
  experiment_id: string;
  definition: ExperimentDefinition;
  /** Epoch ms of the latest PUT. */
  updated_at: number;
  version: number;
}

/** Latest definition of every experiment, of one app or of all apps (argMax: merges are eventual). */
export function definitionsQuery(appId?: string): Sql {
  const where = appId === undefined ? raw('') : sql`WHERE app_id = ${str(appId)}`;
  return sql`SELECT app_id, experiment_id, argMax(definition, version) AS definition,
  toUInt32(argMax(updated_at, version)) AS updated_at, max(version) AS latest_version
FROM viral.experiments ${where}
GROUP BY app_id, experiment_id
ORDER BY app_id, experiment_id`;
}

/** The row `PUT /v1/experiments/:id` inserts. */
export function definitionRow(e: StoredExperiment): Record<string, unknown> {
  return {
    app_id: e.app_id,
    experiment_id: e.experiment_id,
    definition: JSON.stringify(e.definition),
    updated_at: Math.floor(e.updated_at / 1000),
    version: e.version,
  };
}

interface DefinitionRow {
  app_id: string;
  experiment_id: string;
  definition: string;
  updated_at: number | string;
  /** Named apart from the column: on 18.16 an alias `version` would replace it inside argMax. */
  latest_version: number | string;
}

/**
 * Parses stored rows. A row whose JSON no longer validates (written by a future version with other
 * rules, or edited by hand) is skipped rather than breaking every experiment of every app.
 */
export function parseDefinitionRows(rows: readonly DefinitionRow[]): StoredExperiment[] {
  const out: StoredExperiment[] = [];
  for (const r of rows) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.definition);
    } catch {
      continue;
    }
    const v = validateDefinition(parsed);
    if (!v.ok) continue;
    out.push({ app_id: r.app_id, experiment_id: r.experiment_id, definition: v.definition, updated_at: Number(r.updated_at) * 1000, version: Number(r.latest_version) });
  }
  return out;
}

export async function readDefinitions(ch: ClickHouse, appId?: string): Promise<StoredExperiment[]> {
  return parseDefinitionRows(await ch.query<DefinitionRow>(definitionsQuery(appId)));
}

export async function writeDefinition(ch: ClickHouse, e: StoredExperiment): Promise<void> {
  await ch.insert('viral.experiments', [definitionRow(e)]);
}
