// `npm run dashboards`: writes dashboards/generated/<name>.json from dashboards/panels/*.ts
// (design §9). The output is committed and provisioned into Grafana by docker-compose; the unit
// test regenerates it in memory and fails when a committed file is out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboard, stableJson } from './lib/clickhouse-panel.ts';
import { DASHBOARDS } from './panels/index.ts';

export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'generated');

/** File name → file text of every dashboard (sorted keys: regenerating gives identical bytes). */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([name, spec]) => [`${name}.json`, stableJson(buildDashboard(spec))]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, text] of Object.entries(renderDashboards())) {
    writeFileSync(join(GENERATED_DIR, file), text);
    console.log(`wrote dashboards/generated/${file}`);
  }
}
