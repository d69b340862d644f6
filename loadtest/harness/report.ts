// The printed table: each figure beside the physical reference measured in the same run, the
// ratio to it, and the issue-7 target (ingest ≥ 0.8 × raw producer, processors ≥ 0.5 × raw
// consume, freshness p95 ≤ 2 s, api p99 ≤ 20 ms / 2 ms at 500 req/s).
export interface Figure {
  /** Stable key for comparing runs across commits, e.g. 'ingest.batch.linger-default'. */
  id: string;
  label: string;
  value: string;
  reference?: string;
  /** measured / reference, or value / target limit for latency targets. */
  ratio?: number;
  target?: string;
  pass?: boolean;
  /** Why the figure was not measured (e.g. the route does not exist yet). */
  skipped?: string;
  data?: Record<string, unknown>;
}

/** A throughput that must reach `min` × its reference. */
export function atLeast(measured: number, reference: number, min: number): Pick<Figure, 'ratio' | 'target' | 'pass'> {
  const ratio = reference > 0 ? measured / reference : 0;
  return { ratio: round2(ratio), target: `≥ ${min.toFixed(2)} × ref`, pass: reference > 0 && ratio >= min };
}

/** A latency that must stay at or below `limit` ms; the ratio is value / limit (≤ 1 passes). */
export function atMost(valueMs: number, limitMs: number, what: string): Pick<Figure, 'ratio' | 'target' | 'pass'> {
  return { ratio: round2(valueMs / limitMs), target: `${what} ≤ ${limitMs} ms`, pass: valueMs <= limitMs };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number) => (n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(1) : n.toFixed(2));
export const fmtMiB = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** A Markdown table (readable in a terminal, pasteable into the README). */
export function renderTable(figures: readonly Figure[]): string {
  const head = ['figure', 'measured', 'reference (same run)', 'ratio', 'target', 'ok'];
  const rows = figures.map((f) =>
    f.skipped
      ? [f.label, `skipped: ${f.skipped}`, '', '', f.target ?? '', '–']
      : [f.label, f.value, f.reference ?? '', f.ratio === undefined ? '' : f.ratio.toFixed(2), f.target ?? '', f.pass === undefined ? '' : f.pass ? 'yes' : 'NO'],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
