// What Grafana sends to ClickHouse for a panel's SQL, so tests can run the exact statements
// (design §9). Two steps, as in Grafana:
// 1. template variables: the ClickHouse plugin interpolates a single-valued `$name` / `${name}`
//    with the raw value (no quoting: the SQL puts the quotes);
// 2. the data source's macros (grafana/clickhouse-datasource pkg/macros/macros.go):
//      $__timeFilter(col) → col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)
//      $__fromTime        → toDateTime(<from s>)         $__toTime → toDateTime(<to s>)
//      $__interval_s      → the interval in whole seconds, at least 1
// Any other `$__` macro is an error: panels use only these, which exist in every plugin version.

export interface MacroContext {
  /** Time range, epoch milliseconds. */
  from: number;
  to: number;
  /** Grafana's interval for the panel, seconds. */
  intervalS: number;
  vars: Readonly<Record<string, string>>;
}

/**
 * Variable values a dashboard offers (app ids, experiment ids, channels, granularities). Checked so
 * the test never runs a statement a value could have changed the meaning of — Grafana itself does
 * no quoting, which is why the data source's ClickHouse user must be read-only.
 */
const SAFE_VALUE = /^[A-Za-z0-9_.:-]*$/;

// `$__name` optionally followed by `(args)`; variables as `${name}` or `$name`.
const MACRO = /\$__([A-Za-z_]+)(?:\(([^)]*)\))?/g;
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function expandMacros(sql: string, ctx: MacroContext): string {
  const fromS = Math.floor(ctx.from / 1000);
  const toS = Math.floor(ctx.to / 1000);
  const withVars = sql.replace(VARIABLE, (match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (name.startsWith('__')) return match; // a macro, step 2
    const value = ctx.vars[name];
    if (value === undefined) throw new Error(`template variable $${name} has no value`);
    if (!SAFE_VALUE.test(value)) throw new Error(`template variable $${name} has an unsafe value: ${value}`);
    return value;
  });
  return withVars.replace(MACRO, (_match, name: string, args: string | undefined) => {
    switch (name) {
      case 'timeFilter': {
        const column = args?.trim();
        if (!column) throw new Error('$__timeFilter needs a column');
        return `${column} >= toDateTime(${fromS}) AND ${column} <= toDateTime(${toS})`;
      }
      case 'fromTime':
        return `toDateTime(${fromS})`;
      case 'toTime':
        return `toDateTime(${toS})`;
      case 'interval_s':
        return String(Math.max(1, Math.floor(ctx.intervalS)));
      default:
        throw new Error(`unsupported macro $__${name}`);
    }
  });
}

/** Names of the template variables a text uses (macros excluded). */
export function variablesUsed(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(VARIABLE)) {
    const name = m[1] ?? m[2];
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names].sort();
}
