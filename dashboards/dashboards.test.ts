// Dashboards as code (design §9, issue 6): the committed JSON is what the sources generate, and it is
// valid for a current Grafana — unique ids, a gridPos layout inside 24 columns without overlaps,
// only provisioned data sources, only defined template variables, only current panel types.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GENERATED_DIR, renderDashboards } from './build.ts';
import { buildDashboard, GRID_COLUMNS, PANEL_TYPES, type DashboardSpec, type PanelSpec } from './lib/clickhouse-panel.ts';
import { expandMacros, variablesUsed } from './lib/expand-macros.ts';
import { DASHBOARDS } from './panels/index.ts';

type Json = Record<string, any>;
const ROOT = join(GENERATED_DIR, '..', '..');
const committed = Object.fromEntries(readdirSync(GENERATED_DIR).map((f) => [f, readFileSync(join(GENERATED_DIR, f), 'utf8')]));
const dashboards = Object.entries(committed).map(([file, text]) => ({ file, json: JSON.parse(text) as Json }));

const provisioned = ['clickhouse.yaml', 'prometheus.yaml'].flatMap(
  (f) => parse(readFileSync(join(ROOT, 'dashboards/provisioning/datasources', f), 'utf8')).datasources as { uid: string; type: string; jsonData: Json }[],
);
const dsType = new Map(provisioned.map((d) => [d.uid, d.type]));

function overlaps(a: Json, b: Json): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The validity problems of one dashboard JSON (empty when valid). */
function problems(d: Json): string[] {
  const out: string[] = [];
  const panels = d.panels as Json[];
  const ids = panels.map((p) => p.id);
  if (new Set(ids).size !== ids.length || !ids.every((id) => Number.isInteger(id) && id > 0)) out.push(`panel ids not unique positive integers: ${ids}`);
  panels.forEach((p, i) => {
    const g = p.gridPos;
    if (!(g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 1 && g.x + g.w <= GRID_COLUMNS)) out.push(`"${p.title}" gridPos outside the grid: ${JSON.stringify(g)}`);
    panels.slice(i + 1).forEach((q) => overlaps(g, q.gridPos) && out.push(`"${p.title}" overlaps "${q.title}"`));
  });
  const defined: string[] = [];
  for (const v of d.templating.list as Json[]) {
    const text = v.type === 'query' ? v.query.rawSql : v.query;
    for (const used of variablesUsed(text)) if (!defined.includes(used)) out.push(`variable ${v.name} uses $${used} before it is defined`);
    if (v.type === 'query' && v.datasource.uid !== 'viral-clickhouse') out.push(`variable ${v.name} on data source ${v.datasource.uid}`);
    if (v.type === 'custom' && !v.options.some((o: Json) => o.value === v.current.value)) out.push(`variable ${v.name}: current value not an option`);
    defined.push(v.name);
  }
  for (const p of panels.filter((x) => x.type !== 'row')) {
    if (!(PANEL_TYPES as readonly string[]).includes(p.type)) out.push(`"${p.title}" has panel type ${p.type}`);
    if (dsType.get(p.datasource?.uid) !== p.datasource?.type) out.push(`"${p.title}" data source ${JSON.stringify(p.datasource)} is not provisioned`);
    if (!p.targets.length) out.push(`"${p.title}" has no target`);
    for (const t of p.targets as Json[]) {
      if (t.datasource.uid !== p.datasource.uid) out.push(`"${p.title}" target ${t.refId} on another data source`);
      const text = t.rawSql ?? t.expr;
      if (typeof text !== 'string' || !text) out.push(`"${p.title}" target ${t.refId} has no query`);
      for (const used of variablesUsed(`${p.title}\n${text}`)) if (!defined.includes(used)) out.push(`"${p.title}" uses undefined $${used}`);
    }
  }
  return out;
}

describe('generated JSON (design §9)', () => {
  it('every committed file equals what the sources generate, and nothing else is committed', () => {
    const fresh = renderDashboards();
    expect(Object.keys(committed).sort()).toEqual(Object.keys(fresh).sort());
    for (const [file, text] of Object.entries(fresh)) {
      expect(JSON.parse(committed[file]), `${file} is out of date: run npm run dashboards`).toEqual(JSON.parse(text));
      expect(committed[file]).toBe(text);
    }
  });

  it('generating twice gives identical text (no process-wide ids or clocks leak in)', () => {
    expect(renderDashboards()).toEqual(renderDashboards());
  });

  it.each(dashboards)('$file is a valid current Grafana dashboard', ({ json }) => {
    expect(problems(json)).toEqual([]);
    expect(json.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(json).not.toHaveProperty('rows');
    for (const p of json.panels.filter((x: Json) => x.type !== 'row')) expect(p.description.length, p.title).toBeGreaterThan(30);
  });

  it('dashboard uids are unique; SQL panels declare the columns they read, bar charts an x field among them', () => {
    const uids = dashboards.map((d) => d.json.uid);
    expect(new Set(uids).size).toBe(6);
    for (const p of Object.values(DASHBOARDS).flatMap((spec) => spec.rows.flatMap((r) => r.panels))) {
      if ('sql' in p) expect(new Set(p.columns).size, p.title).toBe(p.columns.length);
      if ('sql' in p) expect(p.columns.length, p.title).toBeGreaterThan(0);
      if (p.type === 'barchart') expect('sql' in p && p.columns, p.title).toContain(p.xField);
    }
  });

  // What 18.16 lacks fails in the integration test; this also catches what only current versions run.
  it('panel SQL keeps to what ClickHouse 18.16 and current versions both run (design §2)', () => {
    const forbidden = [/\{\w+:/, /\bOVER\s*\(/i, /\bTTL\b/, /DateTime64/, /toStartOfInterval/, /JSONExtract/, /\bWITH\s+\w+\s+AS\s*\(/i, /\$__timeInterval/];
    const texts = Object.values(DASHBOARDS).flatMap((spec) => spec.rows.flatMap((r) => r.panels.flatMap((p) => ('sql' in p ? [[p.title, p.sql]] : []))));
    for (const [title, text] of texts) {
      for (const rule of forbidden) expect(text, `${title}: ${rule}`).not.toMatch(rule);
    }
  });

  it('the validity check finds overlaps, foreign data sources and undefined variables', () => {
    const [{ json }] = dashboards;
    const broken = structuredClone(json);
    const [a, b] = broken.panels.filter((p: Json) => p.type !== 'row');
    b.gridPos = { ...a.gridPos };
    a.datasource = { type: 'graphite', uid: 'graphite' };
    a.targets[0].rawSql = 'SELECT 1 WHERE x = $nowhere';
    expect(problems(broken)).toEqual(
      expect.arrayContaining([
        `"${a.title}" overlaps "${b.title}"`,
        `"${a.title}" data source {"type":"graphite","uid":"graphite"} is not provisioned`,
        `"${a.title}" uses undefined $nowhere`,
      ]),
    );
  });
});

describe('provisioning (mounted by docker-compose.yml)', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Json;
  const grafana = compose.services.grafana;
  const mountOf = (source: string) => (grafana.volumes as string[]).map((v) => v.split(':')).find(([from]) => from === source)?.[1];

  it('the dashboard provider loads the folder the generated JSON is mounted at', () => {
    const provider = parse(readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/viral.yaml'), 'utf8')).providers[0];
    expect(provider).toMatchObject({ type: 'file', options: { path: mountOf('./dashboards/generated') } });
    expect(mountOf('./dashboards/provisioning')).toBe('/etc/grafana/provisioning');
  });

  it('the ClickHouse data source points at the compose ClickHouse over HTTP with the credentials Grafana is given', () => {
    const ch = provisioned.find((d) => d.uid === 'viral-clickhouse')!;
    expect(ch.type).toBe('grafana-clickhouse-datasource');
    expect(ch.jsonData).toMatchObject({ host: 'clickhouse', protocol: 'http', username: '$CLICKHOUSE_USER', defaultDatabase: 'viral' });
    expect(compose.services[ch.jsonData.host].ports).toContain(`${ch.jsonData.port}:${ch.jsonData.port}`);
    expect(Object.keys(grafana.environment)).toEqual(expect.arrayContaining(['CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD']));
    expect(grafana.environment.GF_INSTALL_PLUGINS).toContain(ch.type);
  });

  it('every data source a panel uses is provisioned, with a fixed uid', () => {
    const used = new Set(dashboards.flatMap(({ json }) => json.panels.filter((p: Json) => p.type !== 'row').map((p: Json) => p.datasource.uid)));
    expect([...used].sort()).toEqual(provisioned.map((d) => d.uid).sort());
  });
});

describe('layout conversion from dash-gen rows', () => {
  const panel = (width: number, i: number): PanelSpec => ({ title: `p${i}`, description: '', type: 'stat', width, sql: 'SELECT 1 AS x', columns: ['x'] });
  const rowsArb = fc.array(
    fc.record({ height: fc.integer({ min: 1, max: 12 }), widths: fc.array(fc.integer({ min: 1, max: 12 }).map((n) => n * 2), { maxLength: 8 }) }),
    { minLength: 1, maxLength: 5 },
  );

  it('any rows of even-width panels: a row panel, then its panels left to right, wrapping only when the next would not fit', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const spec: DashboardSpec = { uid: 'u', title: 't', description: '', tags: [], variables: [], rows: rows.map((r, i) => ({ title: `r${i}`, height: r.height, panels: r.widths.map(panel) })) };
        const json = buildDashboard(spec) as Json;
        expect(problems(json)).toEqual([]);
        let bottom = 0;
        let i = 0;
        for (const r of rows) {
          const row = json.panels[i++];
          expect(row).toMatchObject({ type: 'row', title: expect.any(String), gridPos: { x: 0, y: bottom, w: GRID_COLUMNS, h: 1 } });
          let prev: Json | undefined;
          for (const w of r.widths) {
            const g = json.panels[i++].gridPos;
            expect(g.w).toBe(w);
            expect(g.h).toBe(r.height);
            if (!prev) expect(g).toMatchObject({ x: 0, y: bottom + 1 });
            else if (prev.x + prev.w + w <= GRID_COLUMNS) expect(g).toMatchObject({ x: prev.x + prev.w, y: prev.y });
            else expect(g).toMatchObject({ x: 0, y: prev.y + r.height });
            prev = g;
          }
          bottom = prev ? prev.y + r.height : bottom + 1 + r.height;
        }
        expect(i).toBe(json.panels.length);
      }),
    );
  });

  it('rejects odd or oversized widths (the legacy span is half the width)', () => {
    for (const width of [3, 0, 26]) {
      const spec: DashboardSpec = { uid: 'u', title: 't', description: '', tags: [], variables: [], rows: [{ title: 'r', height: 4, panels: [panel(width, 0)] }] };
      expect(() => buildDashboard(spec)).toThrow(/width must be even/);
    }
  });
});

describe('expandMacros: the ClickHouse data source macros and template variables', () => {
  const ctx = { from: 1_700_000_000_999, to: 1_700_086_400_000, intervalS: 300, vars: { app: 'demo', channel: 'sms' } };
  it.each([
    { sql: 'WHERE $__timeFilter(occurred_at)', expected: 'WHERE occurred_at >= toDateTime(1700000000) AND occurred_at <= toDateTime(1700086400)', description: 'time filter, seconds' },
    { sql: 'x BETWEEN $__fromTime AND $__toTime', expected: 'x BETWEEN toDateTime(1700000000) AND toDateTime(1700086400)', description: 'range bounds' },
    { sql: 'intDiv(t, $__interval_s) * $__interval_s', expected: 'intDiv(t, 300) * 300', description: 'interval in seconds' },
    { sql: "app_id = '${app}' AND channel = '$channel'", expected: "app_id = 'demo' AND channel = 'sms'", description: 'both variable syntaxes, raw values' },
  ])('$description', ({ sql, expected }) => {
    expect(expandMacros(sql, ctx)).toBe(expected);
  });

  it('interval is at least one second, as in the plugin', () => {
    expect(expandMacros('$__interval_s', { ...ctx, intervalS: 0.2 })).toBe('1');
  });

  it.each([
    { sql: '$__timeInterval(t)', error: /unsupported macro \$__timeInterval/, description: 'a macro that needs toStartOfInterval (not on 18.16)' },
    { sql: '$__timeFilter()', error: /needs a column/, description: 'a time filter without column' },
    { sql: "'${experiment}'", error: /\$experiment has no value/, description: 'an undefined variable' },
  ])('rejects $description', ({ sql, error }) => {
    expect(() => expandMacros(sql, ctx)).toThrow(error);
  });

  it("rejects a value that could change the statement's meaning", () => {
    expect(() => expandMacros("'${app}'", { ...ctx, vars: { app: "x' OR '1'='1" } })).toThrow(/unsafe value/);
  });

  it('variablesUsed lists variables, not macros', () => {
    expect(variablesUsed("SELECT $__interval_s, '${app}', $channel FROM t WHERE $__timeFilter(t) AND [$__rate_interval]")).toEqual(['app', 'channel']);
  });
});
