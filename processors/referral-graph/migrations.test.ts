// The rows this folder emits must fit the tables of its migrations (sql/migrations/01xx_*.sql),
// and the migrations must keep to the portable subset of design §2 / conventions §10.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readMigrations } from '../../core/clickhouse/migrate.ts';
import { ATTRIBUTION_TABLE, createAttributionProcessor } from './attribution.ts';
import { ReferralGraph } from './graph.ts';
import { createReferralGraphProcessor, REFERRAL_ANCESTORS_TABLE, REFERRAL_NODES_TABLE } from './graph-processor.ts';
import { createSuperConnectorProcessor, SUPER_CONNECTORS_TABLE } from './super-connectors.ts';
import { purchase, signup } from './test-builders.ts';

const dir = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));
const ours = readMigrations(dir).filter((m) => /^01\d\d_/.test(m.name));

function columns(table: string): string[] {
  const m = ours.find((x) => x.statement.includes(`viral.${table} (`));
  if (!m) throw new Error(`no migration creates ${table}`);
  const body = m.statement.slice(m.statement.indexOf('(') + 1, m.statement.lastIndexOf(') ENGINE'));
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[0]);
}

describe('migrations 0100–0199', () => {
  it('are one portable statement each, with the header conventions §10 asks for', () => {
    expect(ours.map((m) => m.name)).toEqual(['0100_create_referral_nodes.sql', '0101_create_referral_attribution.sql', '0102_create_super_connectors.sql', '0103_create_referral_ancestors.sql']);
    for (const m of ours) {
      const text = readFileSync(dir + m.name, 'utf8');
      expect(text).toMatch(/^-- Why: /);
      expect(text).toContain('-- blocking: no');
      expect(m.statement).toMatch(/^CREATE TABLE IF NOT EXISTS viral\.\w+ \(/);
      expect(m.statement).toMatch(/ENGINE = ReplacingMergeTree\(version\) ORDER BY \(app_id, /);
      for (const banned of ['{', 'OVER (', 'TTL', 'DateTime64', 'toStartOfInterval', 'Nullable', 'LowCardinality', 'Map(']) expect(m.statement).not.toContain(banned);
    }
  });

  it('hold exactly the fields of the rows the processors emit', () => {
    const graph = new ReferralGraph();
    const procs = [createReferralGraphProcessor(graph), createAttributionProcessor(graph), createSuperConnectorProcessor(graph, { isFlagged: () => false })];
    const events = [signup('r', 1), signup('u', 2, { ref: 'r' }), purchase('u', 'o', 1, 'USD', 3)];
    const batches = procs.flatMap((p) => p.apply(events, 1));
    const tables = [REFERRAL_NODES_TABLE, REFERRAL_ANCESTORS_TABLE, ATTRIBUTION_TABLE, SUPER_CONNECTORS_TABLE];
    expect(batches.map((b) => b.table)).toEqual(tables);
    for (const b of batches) for (const row of b.rows) expect(Object.keys(row).sort()).toEqual(columns(b.table).sort());
  });
});
