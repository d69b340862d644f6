// The one wrapper around grafana-dash-gen (design §9, conventions §5). The library keeps what it
// does well — the dashboard shell, template variables (custom options and current value) and rows —
// and this module turns its output into JSON a current Grafana (schemaVersion 39, Grafana 12 in
// docker-compose) imports without edits:
// - panels are the current types (timeseries, stat, table, barchart), never graph/singlestat, with
//   the ClickHouse data source (`grafana-clickhouse-datasource`) and raw SQL targets, or the
//   Prometheus data source and PromQL targets for the metrics ClickHouse does not hold;
// - the legacy `rows` layout becomes the flat `panels` list with `row` panels and gridPos
//   (span × 2 → width, row height px / 30 → grid units, the conversion Grafana's own migrator does);
// - uid, deterministic panel ids (in layout order; dash-gen's process-wide counter is not stable)
//   and the built-in annotation are set after generation.
import dashgen from 'grafana-dash-gen';

/** Fixed data source uids, provisioned in dashboards/provisioning/datasources. */
export const CLICKHOUSE_DS = { type: 'grafana-clickhouse-datasource', uid: 'viral-clickhouse' } as const;
export const PROMETHEUS_DS = { type: 'prometheus', uid: 'viral-prometheus' } as const;

export const PANEL_TYPES = ['timeseries', 'stat', 'table', 'barchart'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

/** Grafana grid: 24 columns; one grid unit is 30 px high. */
export const GRID_COLUMNS = 24;
const GRID_UNIT_PX = 30;

interface PanelCommon {
  title: string;
  /** Shown as the panel's (i) tooltip: what is counted and from which table (design section). */
  description: string;
  type: PanelType;
  /** Width in grid columns (1–24); even, because the legacy span is half of it. */
  width: number;
  unit?: string;
  decimals?: number;
  /** barchart: the categorical column on the x axis. */
  xField?: string;
  /** stat: also show string columns (a verdict text), not only numbers. */
  showText?: boolean;
  /** Field overrides by column name (colors, units, value mappings). */
  overrides?: FieldOverride[];
}

export interface FieldOverride {
  column: string;
  properties: { id: string; value: unknown }[];
}

/** A panel whose single target is ClickHouse SQL with the data source's macros. */
export interface SqlPanel extends PanelCommon {
  sql: string;
  /** Columns the panel reads, in order (the integration test checks them on real data). */
  columns: readonly string[];
}

/** A panel on the services' Prometheus metrics (not stored in ClickHouse). */
export interface PromPanel extends PanelCommon {
  promql: readonly { expr: string; legend: string }[];
}

export type PanelSpec = SqlPanel | PromPanel;

export interface RowSpec {
  title: string;
  /** Height of the row's panels in grid units. */
  height: number;
  panels: readonly PanelSpec[];
}

export type VariableName = 'app' | 'channel' | 'granularity' | 'experiment';

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: readonly string[];
  /** In dependency order: a variable may use only the ones before it. */
  variables: readonly VariableName[];
  rows: readonly RowSpec[];
}

export function isSqlPanel(p: PanelSpec): p is SqlPanel {
  return 'sql' in p;
}

/** Values of the custom variables (design §3 channels; §4 window granularities). */
const CHANNELS = ['all', 'email', 'sms', 'whatsapp', 'link', 'other'] as const;
const GRANULARITIES = ['hour', 'day', 'week'] as const;

/** SQL of the query variables; `experiment` depends on `app`. */
const VARIABLE_QUERIES = {
  app: 'SELECT DISTINCT app_id FROM viral.events ORDER BY app_id',
  experiment: "SELECT DISTINCT experiment_id FROM viral.experiments WHERE app_id = '${app}' ORDER BY experiment_id",
} as const;

type Json = Record<string, unknown>;

type Template = Parameters<InstanceType<typeof dashgen.Dashboard>['addTemplate']>[0];
type LegacyPanel = Parameters<InstanceType<typeof dashgen.Row>['addPanel']>[0];

function variable(name: VariableName): Template {
  switch (name) {
    case 'app':
    case 'experiment':
      return new dashgen.Templates.Query(VARIABLE_QUERIES[name], { name, label: name === 'app' ? 'App' : 'Experiment', datasource: CLICKHOUSE_DS.uid, includeAll: false });
    case 'channel':
      return new dashgen.Templates.Custom({ name, label: 'Channel', options: [...CHANNELS], defaultValue: 'all' } as never);
    case 'granularity':
      return new dashgen.Templates.Custom({ name, label: 'Window', options: [...GRANULARITIES], defaultValue: 'day' } as never);
  }
}

/** dash-gen's template state → the current variable model (datasource object, SQL query model). */
function currentVariable(t: Json): Json {
  const base = { name: t.name, label: t.label ?? t.name, hide: 0, skipUrlSync: false, multi: false, includeAll: false };
  if (t.type === 'custom') {
    const current = t.current as { text: string; value: string };
    return {
      ...base,
      type: 'custom',
      query: t.query,
      current: { selected: true, text: current.text, value: current.value },
      options: (t.options as { text: string; value: string }[]).map((o) => ({ selected: o.value === current.value, text: o.text, value: o.value })),
    };
  }
  return {
    ...base,
    type: 'query',
    datasource: { ...CLICKHOUSE_DS },
    definition: t.query,
    // The plugin's variable query model: it runs rawSql (plugin 4.x also accepts this object).
    query: { refId: 'variable', queryType: 'sql', editorType: 'sql', rawSql: t.query },
    refresh: 1, // on dashboard load, and again when a variable it uses changes
    sort: 1,
    regex: '',
    current: {},
    options: [],
  };
}

function fieldConfig(p: PanelSpec): Json {
  const custom: Record<PanelType, Json> = {
    timeseries: { drawStyle: 'line', lineWidth: 2, fillOpacity: 10, showPoints: 'auto', spanNulls: false, axisPlacement: 'auto' },
    barchart: { fillOpacity: 80, lineWidth: 1, gradientMode: 'none', axisPlacement: 'auto' },
    table: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false },
    stat: {},
  };
  return {
    defaults: {
      color: { mode: p.type === 'stat' ? 'thresholds' : 'palette-classic' },
      thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
      mappings: [],
      custom: custom[p.type],
      ...(p.unit ? { unit: p.unit } : {}),
      ...(p.decimals !== undefined ? { decimals: p.decimals } : {}),
    },
    overrides: (p.overrides ?? []).map((o) => ({ matcher: { id: 'byName', options: o.column }, properties: o.properties })),
  };
}

function options(p: PanelSpec): Json {
  const legend = { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] };
  switch (p.type) {
    case 'timeseries':
      return { legend, tooltip: { mode: 'multi', sort: 'desc' } };
    case 'barchart':
      return { legend, tooltip: { mode: 'multi', sort: 'none' }, orientation: 'auto', xField: p.xField, showValue: 'auto', stacking: 'none', groupWidth: 0.7, barWidth: 0.9, xTickLabelRotation: 0 };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false, fields: '' } };
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: p.showText ? '/.*/' : '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'value_and_name',
        wideLayout: true,
        showPercentChange: false,
      };
  }
}

function targets(p: PanelSpec): Json[] {
  if (isSqlPanel(p)) {
    // format 0 = time series (long rows pivoted to one series per label column), 1 = table.
    const timeSeries = p.type === 'timeseries';
    return [{ refId: 'A', datasource: { ...CLICKHOUSE_DS }, editorType: 'sql', queryType: timeSeries ? 'timeseries' : 'table', format: timeSeries ? 0 : 1, rawSql: p.sql }];
  }
  return p.promql.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource: { ...PROMETHEUS_DS }, editorMode: 'code', expr: q.expr, legendFormat: q.legend, range: true }));
}

/**
 * A current-type panel carried through a dash-gen Row: `generate()` is all a Row asks of a panel.
 * It emits the legacy `span` (12-column units) that the layout conversion turns into gridPos.
 */
class CurrentPanel {
  constructor(private readonly spec: PanelSpec) {
    if (spec.width < 2 || spec.width > GRID_COLUMNS || spec.width % 2) throw new Error(`panel "${spec.title}": width must be even, 2–24`);
  }

  generate(): Json {
    const p = this.spec;
    return {
      type: p.type,
      title: p.title,
      description: p.description,
      datasource: isSqlPanel(p) ? { ...CLICKHOUSE_DS } : { ...PROMETHEUS_DS },
      targets: targets(p),
      fieldConfig: fieldConfig(p),
      options: options(p),
      span: p.width / 2,
    };
  }
}

/**
 * Flat panels from dash-gen's legacy rows: a `row` panel per row, then its panels left to right,
 * wrapping at 24 columns; ids 1, 2, … in that order.
 */
function flattenRows(rows: Json[]): Json[] {
  const out: Json[] = [];
  let y = 0;
  for (const row of rows) {
    out.push({ type: 'row', title: row.title, collapsed: false, panels: [], id: out.length + 1, gridPos: { h: 1, w: GRID_COLUMNS, x: 0, y } });
    y += 1;
    const h = Math.ceil(Number.parseInt(String(row.height), 10) / GRID_UNIT_PX);
    let x = 0;
    for (const legacy of row.panels as Json[]) {
      const { span, ...panel } = legacy;
      const w = Number(span) * 2;
      if (x + w > GRID_COLUMNS) {
        x = 0;
        y += h;
      }
      out.push({ ...panel, id: out.length + 1, gridPos: { h, w, x, y } });
      x += w;
    }
    y += h;
  }
  return out;
}

/** The Grafana dashboard JSON of a spec (design §9). Deterministic: same spec, same JSON. */
export function buildDashboard(spec: DashboardSpec): Json {
  const dash = new dashgen.Dashboard({ title: spec.title, tags: [...spec.tags], refresh: '1m', time: { from: 'now-7d', to: 'now' } });
  for (const name of spec.variables) dash.addTemplate(variable(name));
  for (const r of spec.rows) {
    const row = new dashgen.Row({ title: r.title, height: `${r.height * GRID_UNIT_PX}px` });
    // A Row only calls generate() on what it holds; its Panel union lists dash-gen's legacy classes.
    for (const p of r.panels) row.addPanel(new CurrentPanel(p) as unknown as LegacyPanel);
    dash.addRow(row);
  }
  const legacy = dash.generate() as Json;
  return {
    uid: spec.uid,
    title: legacy.title,
    description: spec.description,
    tags: legacy.tags,
    editable: true,
    graphTooltip: 1, // shared crosshair
    id: null,
    links: [],
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: legacy.refresh,
    schemaVersion: 39,
    version: 1,
    // Windows are UTC and weeks ISO (design §4): show them as the pipeline computes them.
    timezone: 'utc',
    weekStart: 'monday',
    time: legacy.time,
    timepicker: {},
    annotations: {
      list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }],
    },
    templating: { list: ((legacy.templating as { list: Json[] }).list).map(currentVariable) },
    panels: flattenRows(legacy.rows as Json[]),
  };
}

/** JSON text with object keys sorted at every level, so regenerating gives identical files. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Json)[k])]));
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}
